import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import { MAX_VAD_IN_FLIGHT_MS } from '../../app/engine/pipeline/vad.stage';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

/**
 * A client that floods mic audio far faster than real time cannot grow the engine without bound:
 * audio the VAD has not judged yet is capped (MAX_VAD_IN_FLIGHT_MS), the rest is skipped with a
 * typed warning, and the session still hears speech afterwards.
 */

let engine: EngineInstance;

beforeAll(async () => {
  engine = await startEngine(scriptedConfig());
});

afterAll(async () => {
  await engine?.shutdown();
});

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mic flood', () => {
  it('skips audio beyond the in-flight bound with a typed warning, keeps memory flat, and still hears the next utterance', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    // 1 s frames (64 KB each): 16,000 of them are 1 GB, sent as fast as the loop can.
    const second = new Float32Array(16_000);
    for (let i = 0; i < second.length; i++) second[i] = 0.001 * Math.sin(i);
    global.gc?.();
    const rssBeforeMb = process.memoryUsage().rss / 1e6;
    let seq = 0;
    let peakRssMb = rssBeforeMb;
    for (let burst = 0; burst < 160; burst++) {
      for (let i = 0; i < 100; i++) client.send({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: 16000, pcm: second.slice() });
      peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 1e6);
      await settle(0);
    }
    const warning = await client.waitFor((m) => m.type === 'error' && m.code === 'bad_audio' && /faster than it can be listened to/.test(m.message));
    expect(warning).toMatchObject({ recoverable: true, sessionId });
    // The skipped audio is gone, not queued: memory during and after the flood stays near the start.
    await settle(2_000);
    global.gc?.();
    const rssAfterMb = process.memoryUsage().rss / 1e6;
    console.log(`mic flood: 1 GB sent; RSS ${rssBeforeMb.toFixed(0)} MB before, ${peakRssMb.toFixed(0)} MB peak, ${rssAfterMb.toFixed(0)} MB after (in-flight bound ${MAX_VAD_IN_FLIGHT_MS} ms)`);
    // Unbounded, the 1 GB would sit in the queue; the allocator keeps some slack after a burst.
    expect(peakRssMb - rssBeforeMb).toBeLessThan(250);
    expect(rssAfterMb - rssBeforeMb).toBeLessThan(120);

    // Listening goes on: a real utterance afterwards still becomes a turn.
    const from = client.messages.length;
    sendMic(client, sessionId, [...micFrames('silence', 600), ...micFrames('speech', 600), ...micFrames('silence', 800)], seq);
    const started = await client.waitFor((m) => m.type === 'turn.started' && m.sessionId === sessionId && m.source === 'voice', 20_000, from);
    expect(started).toBeDefined();
  }, 120_000);
});
