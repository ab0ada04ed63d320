import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

type Chunk = Extract<ServerMessage, { type: 'tts.chunk' }>;

describe('engine: barge-in and voice turns', () => {
  let engine: EngineInstance;
  let client: TestClient;
  let sessionId: string;
  let micSeq = 0;

  beforeAll(async () => {
    engine = await startEngine(
      scriptedConfig({
        llm: { options: { firstTokenMs: 10, tokenMs: 40, replySentences: 4 } },
        tts: { options: { ttsMsPerChar: 1 } },
        stt: { options: { transcript: 'What about the weather?' } },
        // Reports its speaking state (hangover included) as the probability, like the silero worker.
        vad: { options: { vadProbability: 'state' } },
      }),
    );
    client = new TestClient(engine);
    sessionId = await client.openSession();
  });
  afterAll(async () => engine?.shutdown());

  /** Starts a text turn and resolves with its first audio chunk. */
  async function speakingTurn(text: string): Promise<Chunk> {
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text });
    return (await client.waitFor((m) => m.type === 'tts.chunk' && m.seq === 0, 20_000, from)) as Chunk;
  }

  it('stops the reply when the user talks over it and keeps only the heard text in history', async () => {
    const chunk = await speakingTurn('Tell me a story');
    const durationMs = (chunk.pcm.length * 1000) / chunk.sampleRateHz;
    client.send({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: 0, started: true });
    client.send({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: durationMs * 0.5 });
    micSeq = sendMic(client, sessionId, micFrames('speech', 300), micSeq);

    const stop = await client.waitFor((m) => m.type === 'turn.stop' && m.turnId === chunk.turnId);
    expect(stop).toMatchObject({ reason: 'barge-in' });
    const ended = await client.waitFor((m): m is Extract<ServerMessage, { type: 'turn.ended' }> => m.type === 'turn.ended' && m.turnId === chunk.turnId);
    expect(ended.status).toBe('interrupted');
    // Heard: about half of the first chunk (whole words), nothing of what was never played.
    expect(ended.heardText.length).toBeGreaterThan(0);
    expect(chunk.text.startsWith(ended.heardText)).toBe(true);
    expect(ended.heardText.length).toBeLessThan(chunk.text.length);
    const history = engine.session(sessionId)!.history;
    expect(history.at(-1)).toEqual({ role: 'assistant', content: ended.heardText });
    // Nothing more of the stopped turn reaches the renderer.
    const stopIndex = client.messages.indexOf(stop);
    expect(client.messages.slice(stopIndex + 1).some((m) => (m.type === 'tts.chunk' || m.type === 'reply.delta') && m.turnId === chunk.turnId)).toBe(false);
    const trace = engine.session(sessionId)!.traces.find((t) => t.turnId === chunk.turnId)!;
    expect(trace.bargeInMs).toBeDefined();
    expect(trace.firstAudioAudibleMs).toBeDefined();

    // The user's speech ends: it becomes a voice turn (VAD → endpoint → STT → reply).
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('silence', 400), micSeq);
    const voiceStarted = await client.waitFor((m) => m.type === 'turn.started' && m.source === 'voice', 20_000, from);
    const voiceTurnId = (voiceStarted as Extract<ServerMessage, { type: 'turn.started' }>).turnId;
    const transcript = await client.waitFor((m) => m.type === 'transcript' && m.turnId === voiceTurnId);
    expect(transcript).toMatchObject({ text: 'What about the weather?', final: true });
    const voiceEnded = await client.turnEnded(sessionId, from);
    expect(voiceEnded).toMatchObject({ turnId: voiceTurnId, status: 'complete' });
    expect(voiceEnded.replyText).toContain('You said What about the weather.');
    const voiceTrace = engine.session(sessionId)!.traces.find((t) => t.turnId === voiceTurnId)!;
    for (const field of ['speechStartMs', 'speechEndMs', 'endpointMs', 'sttFinalMs', 'llmRequestMs', 'ttsFirstAudioMs'] as const) {
      expect(voiceTrace[field]).toBeTypeOf('number');
    }
    expect(voiceTrace.speechEndMs!).toBeLessThanOrEqual(voiceTrace.endpointMs!);
    expect(voiceTrace.endpointMs!).toBeLessThanOrEqual(voiceTrace.sttFinalMs!);
  });

  it('ignores a noise shorter than the barge-in minimum', async () => {
    const chunk = await speakingTurn('Tell me another story');
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('speech', 40), micSeq);
    micSeq = sendMic(client, sessionId, micFrames('silence', 400), micSeq);
    await client.waitFor((m) => m.type === 'vad' && m.event === 'speech-end', 20_000, from);
    const ended = await client.turnEnded(sessionId, from);
    expect(ended).toMatchObject({ turnId: chunk.turnId, status: 'complete' });
    expect(client.messages.slice(from).some((m) => m.type === 'turn.stop')).toBe(false);
    expect(client.messages.slice(from).some((m) => m.type === 'turn.started')).toBe(false);
  });

  it('stops audio still playing after the reply was generated, and trims that reply in history', async () => {
    const chunk = await speakingTurn('Tell me a short one');
    const ended = await client.waitFor((m): m is Extract<ServerMessage, { type: 'turn.ended' }> => m.type === 'turn.ended' && m.turnId === chunk.turnId);
    expect(ended.status).toBe('complete');
    expect(engine.session(sessionId)!.history.at(-1)!.content).toBe(ended.replyText);
    // The renderer only now starts playing it.
    client.send({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: 0, started: true });
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('speech', 300), micSeq);
    expect(await client.waitFor((m) => m.type === 'turn.stop' && m.turnId === chunk.turnId, 20_000, from)).toMatchObject({ reason: 'barge-in' });
    const kept = engine.session(sessionId)!.history.at(-1)!;
    expect(kept.role).toBe('assistant');
    expect(kept.content.length).toBeLessThan(ended.replyText.length);
    expect(ended.replyText.startsWith(kept.content)).toBe(true);
    const trace = await client.waitFor((m) => m.type === 'turn.trace' && m.trace.turnId === chunk.turnId && m.trace.bargeInMs !== undefined, 20_000, from);
    expect(trace.type).toBe('turn.trace');
    micSeq = sendMic(client, sessionId, micFrames('silence', 400), micSeq);
    await client.turnEnded(sessionId, from);
  });

  it('stops when the user presses stop', async () => {
    const chunk = await speakingTurn('One more please');
    client.send({ type: 'turn.interrupt', sessionId });
    expect(await client.waitFor((m) => m.type === 'turn.stop' && m.turnId === chunk.turnId)).toMatchObject({ reason: 'user' });
    expect(await client.waitFor((m) => m.type === 'turn.ended' && m.turnId === chunk.turnId)).toMatchObject({ status: 'interrupted' });
    expect(client.ofTurn('error', chunk.turnId)).toEqual([]);
  });
});
