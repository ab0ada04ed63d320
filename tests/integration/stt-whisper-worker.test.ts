import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import {
  FromWorkerSchema,
  SttRunResultSchema,
  type FromWorker,
  type LoadSpec,
  type SttRunResult,
  type ToWorker,
} from '../../app/shared/worker.contract';
import { ensureWhisperFixture } from '../../scripts/fixtures/whisper-fixture';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';
import { requestWorker } from '../support/worker-request';

const SAMPLE_RATE_HZ = 16_000;

/** Also posts deliberately malformed messages (the worker must refuse them in words). */
const send = requestWorker;

const loadSpec = (modelPath: string): LoadSpec => ({ kind: 'stt', engine: 'whisper', modelName: 'whisper fixture', modelPath, threads: 1, options: {} });

function load(worker: Worker, modelPath: string): Promise<FromWorker> {
  return send(worker, { type: 'load', spec: loadSpec(modelPath) }, (reply) => reply.type === 'ready' || reply.type === 'error');
}

let nextRequest = 0;

function transcribe(worker: Worker, pcm: Float32Array, final = true): Promise<FromWorker> {
  const requestId = `stt-${nextRequest++}`;
  const input = { kind: 'stt', sampleRateHz: 16000, pcm, final } as const;
  return send(worker, { type: 'run', requestId, input }, (reply) => (reply.type === 'result' || reply.type === 'error') && reply.requestId === requestId);
}

function resultOf(reply: FromWorker): SttRunResult {
  if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
  return SttRunResultSchema.parse(reply.data);
}

/** A voiced, syllable-like test signal: 140 Hz harmonics under a 4 Hz envelope. */
function syntheticSpeech(durationMs: number): Float32Array {
  const pcm = new Float32Array((durationMs * SAMPLE_RATE_HZ) / 1000);
  for (let i = 0; i < pcm.length; i++) {
    const t = i / SAMPLE_RATE_HZ;
    let voiced = 0;
    for (let harmonic = 1; harmonic <= 8; harmonic++) voiced += Math.sin(2 * Math.PI * 140 * harmonic * t) / harmonic;
    pcm[i] = 0.2 * voiced * Math.max(0, Math.sin(2 * Math.PI * 4 * t));
  }
  return pcm;
}

describe('whisper STT worker (whisper.cpp in a worker thread, fixture model)', () => {
  let worker: Worker;
  let modelPath: string;
  let badDir: string;

  beforeAll(async () => {
    modelPath = await ensureWhisperFixture();
    badDir = await mkdtemp(join(tmpdir(), 'stt-bad-models-'));
    worker = startSourceWorker(workerEntryFor('whisper'));
    const ready = await load(worker, modelPath);
    expect(ready).toMatchObject({ type: 'ready', info: { modelPath, weightType: 'f16', threads: 1, layers: 1 } });
  });

  afterAll(async () => {
    await worker?.terminate();
    if (badDir) await rm(badDir, { recursive: true, force: true });
  });

  it('transcribes 2 s of audio into text and segments inside the audio, the same way every time', async () => {
    const audio = syntheticSpeech(2000);
    const first = resultOf(await transcribe(worker, audio.slice()));
    expect(typeof first.text).toBe('string');
    expect(first.text.length).toBeGreaterThan(0);
    expect(first.segments.length).toBeGreaterThan(0);
    for (const segment of first.segments) {
      expect(segment.startMs).toBeGreaterThanOrEqual(0);
      expect(segment.endMs).toBeGreaterThanOrEqual(segment.startMs);
      expect(segment.endMs).toBeLessThanOrEqual(2000);
    }
    const partial = resultOf(await transcribe(worker, audio.slice(), false));
    expect(partial).toEqual(first);
  });

  it('answers a cancel at once while whisper.cpp finishes in the background, then serves the next request', async () => {
    const audio = syntheticSpeech(2000);
    const requestId = `stt-cancel-${nextRequest++}`;
    let cancelledAtMs = 0;
    const answered = new Promise<FromWorker>((resolve) => {
      const onMessage = (raw: unknown): void => {
        const reply = FromWorkerSchema.parse(raw);
        if (!('requestId' in reply) || reply.requestId !== requestId) return;
        if (reply.type === 'progress' && reply.message === 'transcribing' && cancelledAtMs === 0) {
          cancelledAtMs = performance.now();
          worker.postMessage({ type: 'cancel', requestId } satisfies ToWorker);
        }
        if (reply.type === 'result' || reply.type === 'error') {
          worker.off('message', onMessage);
          resolve(reply);
        }
      };
      worker.on('message', onMessage);
    });
    worker.postMessage({ type: 'run', requestId, input: { kind: 'stt', sampleRateHz: 16000, pcm: audio.slice(), final: true } } satisfies ToWorker);
    const reply = await answered;
    const answerMs = performance.now() - cancelledAtMs;
    expect(reply).toMatchObject({ type: 'error', code: 'cancelled', recoverable: true });

    const nextStartedMs = performance.now();
    const next = resultOf(await transcribe(worker, audio.slice()));
    const nextMs = performance.now() - nextStartedMs;
    expect(next.segments.length).toBeGreaterThan(0);
    // The next request waited for the cancelled native call and then ran its own: the cancel was
    // answered in a small fraction of that, on a busy machine too.
    expect(answerMs).toBeLessThan(nextMs / 4);
  });

  it('rejects audio at another sample rate and non-finite samples with typed errors', async () => {
    const wrongRate = await send(
      worker,
      { type: 'run', requestId: 'stt-44k', input: { kind: 'stt', sampleRateHz: 44100, pcm: new Float32Array(44100), final: true } },
      (reply) => reply.type === 'error' && reply.requestId === 'stt-44k',
    );
    expect(wrongRate).toMatchObject({ type: 'error', code: 'invalid_message', recoverable: true });

    const broken = syntheticSpeech(500);
    broken[100] = Number.NaN;
    expect(await transcribe(worker, broken)).toMatchObject({ type: 'error', code: 'bad_audio' });
    expect(resultOf(await transcribe(worker, new Float32Array(0)))).toEqual({ text: '', segments: [] });
  });

  it('keeps whisper.cpp quiet: nothing on stderr from loading, transcribing and freeing a model', async () => {
    // Native code writes to the process's stderr directly, which only a child process can capture.
    const engineUrl = pathToFileURL(fileURLToPath(new URL('../../app/native-workers/stt/whisper-engine.ts', import.meta.url))).href;
    const script = `
      const { WhisperEngine } = await import(${JSON.stringify(engineUrl)});
      const engine = new WhisperEngine();
      await engine.load({ kind: 'stt', engine: 'whisper', modelName: 'fixture', modelPath: ${JSON.stringify(modelPath)}, threads: 1, options: {} }, () => {});
      const pcm = new Float32Array(16000).map((_, i) => 0.2 * Math.sin(i / 10));
      const { data } = await engine.run({ kind: 'stt', sampleRateHz: 16000, pcm, final: true }, { signal: new AbortController().signal, emitChunk() {}, progress() {} });
      await engine.unload();
      console.log(Array.isArray(data.segments) ? 'transcribed' : 'no segments');`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx/esm'), '--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('transcribed');
    expect(stderr).toBe('');
  });

  it('refuses missing, truncated, foreign and weightless model files with errors naming the file, keeping its model', async () => {
    const missing = join(badDir, 'ggml-missing.bin');
    const truncated = join(badDir, 'ggml-truncated.bin');
    await copyFile(modelPath, truncated);
    await truncate(truncated, 3_000_000);
    const foreign = join(badDir, 'model.gguf');
    await writeFile(foreign, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(4096)]));
    const weightless = join(badDir, 'for-tests-ggml-stub.bin');
    const fixture = await readFile(modelPath);
    await writeFile(weightless, fixture.subarray(0, fixture.indexOf(Buffer.from('encoder.positional_embedding')) - 20));

    const expectations: Array<[string, string, RegExp]> = [
      [missing, 'model_missing', /not found/],
      [truncated, 'model_invalid', /truncated/],
      [foreign, 'model_invalid', /ggml magic 0x67676d6c.*GGUF/],
      [weightless, 'model_invalid', /no tensors/],
    ];
    for (const [path, code, reason] of expectations) {
      const reply = await load(worker, path);
      expect(reply).toMatchObject({ type: 'error', code, recoverable: false });
      expect(reply.type === 'error' && reply.message).toContain(path);
      expect(reply.type === 'error' && reply.message).toMatch(reason);
    }
    expect(resultOf(await transcribe(worker, syntheticSpeech(1000))).segments).toBeInstanceOf(Array);
  });
});
