import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/main/engine/create-engine';
import { ServerMessageSchema } from '../../app/shared/messages.contract';
import { scriptedConfig, startEngine, TestClient } from './engine-harness';

describe('engine: a typed text turn over real host process and worker threads', () => {
  let engine: EngineInstance;

  beforeAll(async () => {
    engine = await startEngine(
      scriptedConfig({
        llm: { options: { firstTokenMs: 5, tokenMs: 15 } },
        tts: { count: 2, options: { ttsFirstChunkMs: 5, ttsMsPerChar: 0.5 } },
      }),
    );
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
});
