import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { EspeakSynthesizer } from '../../app/native-workers/tts/espeak-wasm';
import { ensureVoiceFixture } from '../../scripts/fixtures/voice-fixture';
import type { LoadSpec, ToWorker } from '../../app/shared/worker.contract';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';
import { detectOnStream, forgetStream, requestWorker as request } from '../support/worker-request';

const SAMPLE_RATE_HZ = 16_000;



/** Feeds `pcm` to the worker's stream in 20 ms frames (not a multiple of silero's window) and gathers the events. */
function detect(worker: Worker, streamId: string, pcm: Float32Array): ReturnType<typeof detectOnStream> {
  return detectOnStream(worker, streamId, pcm);
}

/** Linear-interpolation resampling; enough for a VAD test signal. */
function resample(pcm: Float32Array, fromHz: number, toHz: number): Float32Array {
  const out = new Float32Array(Math.floor((pcm.length * toHz) / fromHz));
  for (let i = 0; i < out.length; i++) {
    const position = (i * fromHz) / toHz;
    const index = Math.floor(position);
    const next = pcm[Math.min(index + 1, pcm.length - 1)]!;
    out[i] = pcm[index]! + (next - pcm[index]!) * (position - index);
  }
  return out;
}

function padded(speech: Float32Array, leadMs: number, tailMs: number): Float32Array {
  const lead = (leadMs * SAMPLE_RATE_HZ) / 1000;
  const out = new Float32Array(lead + speech.length + (tailMs * SAMPLE_RATE_HZ) / 1000);
  out.set(speech, lead);
  return out;
}

describe('silero VAD worker (sherpa-onnx) in a worker thread', () => {
  let worker: Worker;
  let speech: Float32Array;
  let speechMs: number;

  beforeAll(async () => {
    const voice = await EspeakSynthesizer.create();
    voice.setVoice('en-us');
    const spoken = voice.synthesize('Hello there. I would like to order a large pizza with mushrooms, please.');
    speech = resample(spoken.pcm, spoken.sampleRateHz, SAMPLE_RATE_HZ);
    speechMs = (speech.length * 1000) / SAMPLE_RATE_HZ;

    worker = startSourceWorker(workerEntryFor('silero-vad'));
    const spec: LoadSpec = {
      kind: 'vad',
      engine: 'silero-vad',
      modelName: 'silero v5',
      threads: 1,
      options: { threshold: 0.5, minSilenceDurationMs: 400, minSpeechDurationMs: 200 },
    };
    const ready = await request(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    expect(ready).toMatchObject({ type: 'ready', info: { engine: 'silero-vad' } });
  });

  afterAll(async () => {
    await worker.terminate();
  });

  it('marks the start and end of synthesized speech padded with silence', async () => {
    const result = await detect(worker, 'mic-1', padded(speech, 1000, 1500));
    expect(result.events.map((event) => event.event)).toEqual(['speech-start', 'speech-end']);
    const [start, end] = result.events;
    expect(start!.atMs).toBeGreaterThan(800);
    expect(start!.atMs).toBeLessThan(1300);
    expect(end!.atMs).toBeGreaterThan(1000 + speechMs - 300);
    expect(end!.atMs).toBeLessThan(1000 + speechMs + 600);
    expect(result.probability).toBe(0);
  });

  it('reports voice at the first syllable, well before the minimum speech confirms speech-start', async () => {
    const result = await detect(worker, 'mic-onset', padded(speech, 1000, 1500));
    expect(result.firstVoicedAtMs).toBeDefined();
    expect(result.speechStartArrivedAtMs).toBeDefined();
    // minSpeechDurationMs is 200 here: the onset detector answers at least 150 ms sooner.
    expect(result.speechStartArrivedAtMs! - result.firstVoicedAtMs!).toBeGreaterThanOrEqual(150);
    expect(result.firstVoicedAtMs!).toBeGreaterThan(1000);
  });

  it('stays quiet on silence and on a 100 ms click', async () => {
    const silence = await detect(worker, 'mic-silence', new Float32Array(SAMPLE_RATE_HZ * 2));
    expect(silence.events).toEqual([]);

    const click = padded(new Float32Array(SAMPLE_RATE_HZ / 10), 500, 1000);
    let seed = 1;
    for (let i = 8000; i < 8000 + SAMPLE_RATE_HZ / 10; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      click[i] = (seed / 2 ** 31 - 0.5) * 1.6 * Math.exp(-(i - 8000) / 400);
    }
    const clicked = await detect(worker, 'mic-click', click);
    expect(clicked.events).toEqual([]);
  });

  it('answers a broken or foreign model with a typed error naming it, and keeps serving', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'vad-'));
    try {
      const garbage = join(scratch, 'garbage.onnx');
      await writeFile(garbage, 'not a model');
      const foreign = (await ensureVoiceFixture()).modelPath;
      for (const [modelPath, code] of [
        [garbage, 'model_invalid'],
        [foreign, 'model_invalid'],
        [join(scratch, 'missing.onnx'), 'model_missing'],
      ] as const) {
        const spec: LoadSpec = { kind: 'vad', engine: 'silero-vad', modelName: 'bad', modelPath, threads: 1, options: {} };
        const reply = await request(worker, { type: 'load', spec }, (r) => r.type === 'ready' || r.type === 'error');
        expect(reply).toMatchObject({ type: 'error', code });
        expect((reply as { message: string }).message).toContain(modelPath);
      }
      // The loaded model still serves.
      const result = await detect(worker, 'mic-after-errors', padded(speech, 500, 1000));
      expect(result.events.map((event) => event.event)).toEqual(['speech-start', 'speech-end']);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('keeps streams apart and forgets a released stream (a new stream.open starts it afresh)', async () => {
    const first = padded(speech.subarray(0, SAMPLE_RATE_HZ), 500, 0);
    const opened = await detect(worker, 'mic-2', first);
    expect(opened.events.map((event) => event.event)).toEqual(['speech-start']);
    expect(opened.probability).toBe(1);

    const other = await detect(worker, 'mic-3', new Float32Array(SAMPLE_RATE_HZ / 2));
    expect(other.events).toEqual([]);

    worker.postMessage({ type: 'release', sessionId: 'mic-2' } satisfies ToWorker);
    forgetStream(worker, 'mic-2');
    const fresh = await detect(worker, 'mic-2', padded(speech, 300, 1000));
    expect(fresh.events.map((event) => event.event)).toEqual(['speech-start', 'speech-end']);
    expect(fresh.events[0]!.atMs).toBeLessThan(600);
  });
});
