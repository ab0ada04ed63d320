import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import type { EngineDiagnostic } from '../../app/engine/engine-config';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

/**
 * Smart interruptions on the real engine with scripted workers: speech over the avatar lowers its
 * voice at once (`turn.duck`); a backchannel ("Uh-huh.") brings it back and the reply goes on to its
 * end; anything else ("Wait, stop.") stops it and becomes the next turn; speech that goes on past
 * `decideWithinMs` stops it whatever it says.
 */

type Chunk = Extract<ServerMessage, { type: 'tts.chunk' }>;

/** An engine for the enclosing describe: scripted, its STT hearing `transcript`, smart interruptions; shut down after it. */
function engineHearing(transcript: string, loudnessOnset?: boolean): { readonly engine: EngineInstance; readonly diagnostics: EngineDiagnostic[] } {
  const diagnostics: EngineDiagnostic[] = [];
  let engine: EngineInstance | undefined;
  beforeAll(async () => {
    const base = scriptedConfig({
      llm: { options: { firstTokenMs: 10, tokenMs: 40, replySentences: 4 } },
      tts: { options: { ttsMsPerChar: 1 } },
      stt: { options: { transcript } },
      vad: { options: { vadProbability: 'state' } },
    });
    engine = await startEngine({
      ...base,
      pipeline: { ...base.pipeline, interruptions: { mode: 'smart', decideWithinMs: 1000, ...(loudnessOnset !== undefined ? { loudnessOnset } : {}) } },
      onDiagnostic: (event) => diagnostics.push(event),
    });
  });
  afterAll(async () => {
    await engine?.shutdown();
  });
  return {
    get engine(): EngineInstance {
      if (!engine) throw new Error('the engine is not started (beforeAll failed?)');
      return engine;
    },
    diagnostics,
  };
}

/** A text turn whose first chunk the page reports as playing; resolves with that chunk. */
async function speakingTurn(client: TestClient, sessionId: string): Promise<Chunk> {
  const from = client.messages.length;
  client.send({ type: 'user.text', sessionId, text: 'Tell me a long story' });
  const chunk = (await client.waitFor((m) => m.type === 'tts.chunk' && m.seq === 0, 20_000, from)) as Chunk;
  const durationMs = (chunk.pcm.length * 1000) / chunk.sampleRateHz;
  client.send({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: 0, started: true });
  client.send({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: durationMs * 0.3 });
  return chunk;
}

/** `count` 20 ms frames of a 220 Hz tone at `rms`. */
function toneFrames(rms: number, count: number): Float32Array<ArrayBuffer>[] {
  return micFrames('speech', count * 20).map((pcm) => pcm.map((x) => (x / 0.3) * rms * Math.SQRT2));
}

describe('smart interruptions', () => {
  describe('a backchannel', () => {
    const heard = engineHearing('Uh-huh.');

    it('ducks the avatar at the first voiced frame, then lets it go on at full volume; no turn, nothing stopped', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      const chunk = await speakingTurn(client, sessionId);
      const from = client.messages.length;
      const seq = sendMic(client, sessionId, micFrames('speech', 400), 0);
      const ducked = await client.waitFor((m) => m.type === 'turn.duck' && m.ducked, 10_000, from);
      expect(ducked).toMatchObject({ turnId: chunk.turnId });
      sendMic(client, sessionId, micFrames('silence', 500), seq);
      const back = await client.waitFor((m) => m.type === 'turn.duck' && !m.ducked, 10_000, from);
      expect(back).toMatchObject({ turnId: chunk.turnId });
      expect(heard.diagnostics).toContainEqual({ type: 'backchannel', sessionId, text: 'Uh-huh.' });
      const after = client.messages.slice(from);
      expect(after.some((m) => m.type === 'turn.stop')).toBe(false);
      expect(after.some((m) => m.type === 'turn.started' && m.source === 'voice')).toBe(false);
      // The reply is still being generated and sent after the backchannel.
      await client.waitFor((m) => m.type === 'reply.delta' && m.turnId === chunk.turnId, 10_000, client.messages.indexOf(back) + 1);
      client.send({ type: 'turn.interrupt', sessionId });
      client.connection.close();
    }, 60_000);
  });

  describe('an interruption', () => {
    const heard = engineHearing('Wait, stop.');

    it('stops the avatar once its words are known and answers them as the next turn', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      const chunk = await speakingTurn(client, sessionId);
      const from = client.messages.length;
      const seq = sendMic(client, sessionId, micFrames('speech', 400), 0);
      await client.waitFor((m) => m.type === 'turn.duck' && m.ducked, 10_000, from);
      sendMic(client, sessionId, micFrames('silence', 500), seq);
      const stop = await client.waitFor((m) => m.type === 'turn.stop' && m.turnId === chunk.turnId, 10_000, from);
      expect(stop).toMatchObject({ reason: 'barge-in' });
      const voice = (await client.waitFor((m) => m.type === 'turn.started' && m.source === 'voice', 10_000, from)) as Extract<ServerMessage, { type: 'turn.started' }>;
      const transcript = await client.waitFor((m) => m.type === 'transcript' && m.turnId === voice.turnId && m.final, 10_000, from);
      expect(transcript).toMatchObject({ text: 'Wait, stop.' });
      expect(heard.diagnostics.some((event) => event.type === 'backchannel')).toBe(false);
      client.connection.close();
    }, 60_000);

    it('stops the avatar when speech over it goes on past decideWithinMs, before the user finishes', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      const chunk = await speakingTurn(client, sessionId);
      const from = client.messages.length;
      sendMic(client, sessionId, micFrames('speech', 1300), 0);
      const stop = await client.waitFor((m) => m.type === 'turn.stop' && m.turnId === chunk.turnId, 10_000, from);
      expect(stop).toMatchObject({ reason: 'barge-in' });
      // No silence was sent: the utterance has not ended, yet the avatar stopped.
      expect(client.messages.slice(from).some((m) => m.type === 'turn.started' && m.source === 'voice')).toBe(false);
      client.connection.close();
    }, 60_000);
  });

  describe('a loudness onset', () => {
    const heard = engineHearing('Uh-huh.');

    it('lowers the avatar at the first loud frame, before the VAD hears it, and keeps it low once the VAD confirms speech', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      const chunk = await speakingTurn(client, sessionId);
      let seq = sendMic(client, sessionId, micFrames('silence', 200), 0);
      const from = client.messages.length;
      const diagnosticsFrom = heard.diagnostics.length;
      // One loud frame: too short for the VAD's speech (it needs a run of them), enough for the loudness onset.
      seq = sendMic(client, sessionId, micFrames('speech', 20), seq);
      // Sent synchronously with the frame: no VAD round trip before it.
      expect(client.messages.slice(from).find((m) => m.type === 'turn.duck')).toMatchObject({ turnId: chunk.turnId, ducked: true });
      seq = sendMic(client, sessionId, micFrames('speech', 380), seq);
      sendMic(client, sessionId, micFrames('silence', 500), seq);
      await client.waitFor((m) => m.type === 'turn.duck' && !m.ducked, 10_000, from);
      const ducks = heard.diagnostics.slice(diagnosticsFrom).filter((event) => event.type === 'duck' || event.type === 'duck-withdrawn');
      expect(ducks).toEqual([{ type: 'duck', sessionId, cause: 'energy', frameEndStreamMs: 220, vadMs: 0 }]);
      // Lowered once, brought back once (the backchannel), never withdrawn and lowered again.
      expect(client.messages.slice(from).filter((m) => m.type === 'turn.duck').map((m) => m.type === 'turn.duck' && m.ducked)).toEqual([true, false]);
      client.send({ type: 'turn.interrupt', sessionId });
      client.connection.close();
    }, 60_000);

    it('withdraws the duck when the VAD does not hear voice within 250 ms of audio', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      const chunk = await speakingTurn(client, sessionId);
      let seq = sendMic(client, sessionId, micFrames('silence', 200), 0);
      const from = client.messages.length;
      const diagnosticsFrom = heard.diagnostics.length;
      // −40 dBFS: far above the silent room, below the scripted VAD's speech level (RMS 0.02).
      seq = sendMic(client, sessionId, toneFrames(0.01, 5), seq);
      sendMic(client, sessionId, micFrames('silence', 400), seq);
      const back = await client.waitFor((m) => m.type === 'turn.duck' && !m.ducked, 10_000, from);
      expect(back).toMatchObject({ turnId: chunk.turnId });
      expect(heard.diagnostics.slice(diagnosticsFrom).map((event) => event.type)).toEqual(['duck', 'duck-withdrawn']);
      expect(heard.diagnostics.slice(diagnosticsFrom)[1]).toMatchObject({ frameEndStreamMs: 220 + 260 });
      expect(client.messages.slice(from).some((m) => m.type === 'turn.stop')).toBe(false);
      client.send({ type: 'turn.interrupt', sessionId });
      client.connection.close();
    }, 60_000);
  });

  describe('without the loudness onset', () => {
    const heard = engineHearing('Uh-huh.', false);

    it('a sound the VAD does not hear as voice leaves the avatar alone', async () => {
      const client = new TestClient(heard.engine);
      const sessionId = await client.openSession();
      await speakingTurn(client, sessionId);
      let seq = sendMic(client, sessionId, micFrames('silence', 200), 0);
      const from = client.messages.length;
      seq = sendMic(client, sessionId, toneFrames(0.01, 5), seq);
      sendMic(client, sessionId, micFrames('silence', 400), seq);
      // The VAD's verdicts on all of it have come back when the page hears of the reply going on.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(client.messages.slice(from).some((m) => m.type === 'turn.duck')).toBe(false);
      expect(heard.diagnostics.some((event) => event.type === 'duck')).toBe(false);
      client.send({ type: 'turn.interrupt', sessionId });
      client.connection.close();
    }, 60_000);
  });
});
