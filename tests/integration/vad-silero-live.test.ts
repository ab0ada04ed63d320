import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../app/engine/lipsync/wav-file';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { EspeakSynthesizer } from '../../app/native-workers/tts/espeak-wasm';
import { startWorkerThread } from '../../app/native-workers/worker-thread';
import { detectOnStream, requestWorker } from '../support/worker-request';
import type { LoadSpec, VadDetection, VadTune } from '../../app/shared/worker.contract';

/** The silero worker (bundled model) takes new sensitivity on an open stream and applies it from the next utterance. */

const SAMPLE_RATE_HZ = 16_000;

/** Feeds `pcm` in 20 ms frames; `tuneAt` gives the stream's sensitivity by stream position (ms), sent when it changes. */
async function detect(worker: Worker, streamId: string, pcm: Float32Array, tuneAt: (streamMs: number) => VadTune): Promise<VadDetection[]> {
  return (await detectOnStream(worker, streamId, pcm, tuneAt)).events;
}

function silence(ms: number): Float32Array {
  return new Float32Array((ms * SAMPLE_RATE_HZ) / 1000);
}

function join(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe('silero VAD: live sensitivity on a stream', () => {
  let worker: Worker;
  /** Two phrases 600 ms apart, then 1.5 s of silence. */
  let pair: Float32Array;
  let pairMs: number;
  /** One quiet sentence in steady noise (speech ×0.3 over ±0.1 white noise). */
  let noisy: Float32Array;

  beforeAll(async () => {
    const voice = await EspeakSynthesizer.create();
    voice.setVoice('en-us');
    const say = (text: string): Float32Array => {
      const spoken = voice.synthesize(text);
      return resample(spoken.pcm, spoken.sampleRateHz, SAMPLE_RATE_HZ);
    };
    pair = join(silence(500), say('Hello there, my friend.'), silence(600), say('Please order a large pizza.'), silence(1500));
    pairMs = (pair.length * 1000) / SAMPLE_RATE_HZ;
    noisy = join(silence(1000), say('Hello there, my friend. Please order a large pizza.').map((sample) => sample * 0.3), silence(1500));
    let seed = 7;
    for (let i = 0; i < noisy.length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      noisy[i]! += (seed / 2 ** 31 - 0.5) * 0.2;
    }
    worker = startWorkerThread(workerEntryFor('silero-vad'));
    const spec: LoadSpec = { kind: 'vad', engine: 'silero-vad', modelName: 'silero v5', threads: 1, options: { threshold: 0.5, minSilenceDurationMs: 1000, minSpeechDurationMs: 200 } };
    const ready = await requestWorker(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    expect(ready).toMatchObject({ type: 'ready' });
  });

  afterAll(async () => {
    await worker?.terminate();
  });

  it('keeps the load options without a tune, and takes a shorter end silence from the next utterance', async () => {
    // Load options (1000 ms): the 600 ms pause does not end the utterance.
    const loaded = await detect(worker, 'mic-a', pair, () => ({}));
    expect(loaded.map((e) => e.event)).toEqual(['speech-start', 'speech-end']);

    // 300 ms asked for while the first phrase is being spoken: that utterance keeps its 1000 ms…
    const changedMidUtterance = await detect(worker, 'mic-b', pair, (streamMs) => (streamMs < 1000 ? {} : { minSilenceMs: 300 }));
    expect(changedMidUtterance.map((e) => e.event)).toEqual(['speech-start', 'speech-end']);
    // …and the next one on the same stream already ends at the pause; times stay on the stream's clock.
    const next = await detect(worker, 'mic-b', pair, () => ({ minSilenceMs: 300 }));
    expect(next.map((e) => e.event)).toEqual(['speech-start', 'speech-end', 'speech-start', 'speech-end']);
    expect(next[0]!.atMs).toBeGreaterThan(pairMs + 200);
    expect(next[3]!.atMs).toBeLessThan(2 * pairMs);
    expect(next[3]!.atMs).toBeGreaterThan(next[2]!.atMs);
  });

  it('takes a tuned threshold: quiet speech in noise is missed at 0.95 and heard at 0.3 on the same stream', async () => {
    const deaf = await detect(worker, 'mic-c', noisy, () => ({ threshold: 0.95 }));
    expect(deaf).toEqual([]);
    const hearing = await detect(worker, 'mic-c', noisy, () => ({ threshold: 0.3 }));
    expect(hearing.map((e) => e.event)).toEqual(['speech-start', 'speech-end']);
  });
});
