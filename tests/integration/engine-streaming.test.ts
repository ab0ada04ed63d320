import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import { ServerMessageSchema } from '../../app/shared/messages.contract';
import { scriptedConfig, startEngine, TestClient } from './engine-harness';

describe('engine: streaming text turns over a real host process and worker threads', () => {
  let engine: EngineInstance;

  beforeAll(async () => {
    const config = scriptedConfig({
      vad: { count: 0 },
      stt: { count: 0 },
      llm: { count: 2, options: { firstTokenMs: 10, tokenMs: 20 } },
      tts: { count: 3, options: { ttsMsPerChar: 8 } },
    });
    engine = await startEngine({ ...config, pipeline: { ...config.pipeline, ttsConcurrency: 3 } });
  });
  afterAll(async () => engine?.shutdown());

  it('opens a session and streams a reply: deltas, ordered tts chunks, end, trace', async () => {
    const client = new TestClient(engine);
    expect(client.messages[0]).toMatchObject({ type: 'engine.status', ready: true });
    const sessionId = await client.openSession();
    client.send({ type: 'user.text', sessionId, text: 'Hello there, how are you today?' });
    const ended = await client.turnEnded(sessionId);

    expect(ended.status).toBe('complete');
    expect(ended.replyText).toContain('You said Hello there, how are you today.');
    const turnId = ended.turnId;
    const started = client.ofTurn('turn.started', turnId)[0];
    expect(started).toMatchObject({ source: 'text', userText: 'Hello there, how are you today?' });
    const deltas = client.ofTurn('reply.delta', turnId).map((m) => m.text).join('');
    expect(deltas).toBe(ended.replyText);
    const chunks = client.ofTurn('tts.chunk', turnId);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks.map((c) => c.text).join(' ')).toBe(ended.replyText.trim());
    expect(ended.chunkCount).toBe(chunks.length);
    for (const chunk of chunks) {
      expect(ServerMessageSchema.safeParse(chunk).success).toBe(true);
      expect(chunk.pcm).toBeInstanceOf(Float32Array);
      const durationMs = (chunk.pcm.length * 1000) / chunk.sampleRateHz;
      // The phoneme timeline covers exactly the samples.
      expect(chunk.phonemes.at(-1)!.endMs).toBeCloseTo(durationMs, 6);
      const rms = Math.sqrt(chunk.pcm.reduce((sum, x) => sum + x * x, 0) / chunk.pcm.length);
      expect(rms).toBeGreaterThan(0.02);
    }
    const trace = client.messages.find((m) => m.type === 'turn.trace' && m.trace.turnId === turnId);
    expect(trace).toBeDefined();
    if (trace?.type !== 'turn.trace') return;
    const { llmRequestMs, llmFirstTokenMs, firstChunkTextMs, ttsFirstAudioMs, turnEndMs } = trace.trace;
    expect(llmRequestMs! <= llmFirstTokenMs! && llmFirstTokenMs! <= firstChunkTextMs! && firstChunkTextMs! <= ttsFirstAudioMs! && ttsFirstAudioMs! <= turnEndMs!).toBe(true);
    expect(engine.session(sessionId)!.history.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('sends the first audio chunk while the LLM is still generating', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    client.send({ type: 'user.text', sessionId, text: 'Hello there' });
    const ended = await client.turnEnded(sessionId);
    expect(ended.status).toBe('complete');
    const indexOf = (predicate: (m: (typeof client.messages)[number]) => boolean): number => client.messages.findIndex(predicate);
    const firstChunk = indexOf((m) => m.type === 'tts.chunk');
    const lastDelta = client.messages.findLastIndex((m) => m.type === 'reply.delta');
    expect(firstChunk).toBeGreaterThan(0);
    expect(firstChunk).toBeLessThan(lastDelta);
    const firstChunkText = client.ofTurn('tts.chunk', ended.turnId)[0]!.text;
    expect(firstChunkText).toBe('You said Hello there.');
  });

  it('emits chunks strictly by seq when later, shorter clauses finish synthesis first', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    // Chunk 0 takes ~320 ms to synthesize, "Hi." ~24 ms: with 3 TTS workers the later ones finish first.
    client.send({ type: 'user.text', sessionId, text: 'say: Alpha beta gamma delta epsilon zeta eta. Hi. Yes. Ok.' });
    const ended = await client.turnEnded(sessionId);
    expect(ended.status).toBe('complete');
    const chunks = client.ofTurn('tts.chunk', ended.turnId);
    expect(chunks.map((c) => c.seq)).toEqual([0, 1, 2, 3]);
    expect(chunks.map((c) => c.text)).toEqual(['Alpha beta gamma delta epsilon zeta eta.', 'Hi.', 'Yes.', 'Ok.']);
  });

  it('keeps separate histories per session and reuses each session’s LLM worker', async () => {
    const client = new TestClient(engine);
    const first = await client.openSession('You are terse.');
    const second = await client.openSession();
    for (const text of ['one', 'two']) {
      const from = client.messages.length;
      client.send({ type: 'user.text', sessionId: first, text: `${text} for first` });
      client.send({ type: 'user.text', sessionId: second, text: `${text} for second` });
      await client.turnEnded(first, from);
      await client.turnEnded(second, from);
    }
    const history = engine.session(first)!.history;
    expect(history[0]).toEqual({ role: 'system', content: 'You are terse.' });
    expect(history.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['one for first', 'two for first']);
    expect(engine.session(second)!.traces).toHaveLength(2);
    const holders = (sessionId: string) => engine.pool.workersOf('llm').filter((w) => w.sessions.has(sessionId));
    expect(holders(first)).toHaveLength(1);
    expect(holders(second)).toHaveLength(1);
    expect(holders(first)[0]).not.toBe(holders(second)[0]);
  });

  it('typed text interrupts a reply in progress and the closed session releases its LLM worker', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    client.send({ type: 'user.text', sessionId, text: 'Talk for a while' });
    const first = await client.waitFor((m) => m.type === 'tts.chunk' && m.sessionId === sessionId);
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: 'Actually, stop' });
    const turnId = (first as { turnId: string }).turnId;
    expect(await client.waitFor((m) => m.type === 'turn.ended' && m.turnId === turnId)).toMatchObject({ status: 'interrupted' });
    expect(client.messages.slice(from).find((m) => m.type === 'turn.stop')).toMatchObject({ turnId, reason: 'user' });
    const next = await client.turnEnded(sessionId, client.messages.findIndex((m) => m.type === 'turn.ended' && m.turnId === turnId) + 1);
    expect(next.replyText).toContain('You said Actually, stop.');
    expect(engine.pool.workersOf('llm').some((w) => w.sessions.has(sessionId))).toBe(true);
    client.send({ type: 'session.close', sessionId });
    await expect.poll(() => engine.pool.workersOf('llm').some((w) => w.sessions.has(sessionId))).toBe(false);
  });

  it('tells the user once when there is no VAD to listen with', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    for (let seq = 0; seq < 20; seq++) client.send({ type: 'mic.audio', sessionId, seq, sampleRateHz: 16000, pcm: new Float32Array(320) });
    const error = await client.waitFor((m) => m.type === 'error' && m.sessionId === sessionId);
    expect(error).toMatchObject({ code: 'model_missing', recoverable: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.messages.filter((m) => m.type === 'error')).toHaveLength(1);
  });
});
