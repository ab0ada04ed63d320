import type { Worker } from 'node:worker_threads';
import { expect } from 'vitest';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { startWorkerThread } from '../../app/native-workers/worker-thread';
import { SttRunResultSchema, type SttRunResult } from '../../app/shared/worker.contract';
import { requestWorker as send } from './worker-request';

/**
 * The app's own whisper worker (whisper.cpp through the addon built at install) as tests use it to
 * hear speech: started, a ggml model loaded on one thread (ggml's threads spin at barriers, and on a
 * machine busy with other tests two of them can take 10× longer than one), 16 kHz PCM transcribed.
 */
export async function startWhisperWorker(modelPath: string, options: Record<string, unknown> = {}): Promise<{ worker: Worker; info: Record<string, unknown> }> {
  const worker = startWorkerThread(workerEntryFor('whisper'));
  const ready = await send(worker, { type: 'load', spec: { kind: 'stt', engine: 'whisper', modelName: 'tiny.en (dev)', modelPath, threads: 1, options } }, (reply) =>
    reply.type === 'ready' || reply.type === 'error',
  );
  if (ready.type !== 'ready') {
    await worker.terminate();
    throw new Error(`the whisper worker did not load ${modelPath}: ${JSON.stringify(ready)}`);
  }
  return { worker, info: ready.info };
}

let nextRequest = 0;

/** Transcribes 16 kHz mono PCM on a loaded whisper worker. */
export async function transcribeOn(worker: Worker, pcm: Float32Array<ArrayBuffer>, prompt?: string): Promise<SttRunResult> {
  const requestId = `test-stt-${nextRequest++}`;
  const reply = await send(worker, { type: 'run', requestId, input: { kind: 'stt', sampleRateHz: 16000, pcm, final: true, ...(prompt ? { prompt } : {}) } }, (r) =>
    (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
  );
  expect(reply.type, JSON.stringify(reply)).toBe('result');
  return SttRunResultSchema.parse((reply as { data: unknown }).data);
}

/** Unloads the model (checking the worker answers) and ends the thread. */
export async function stopWhisperWorker(worker: Worker | undefined): Promise<void> {
  if (!worker) return;
  expect(await send(worker, { type: 'unload' }, (reply) => reply.type === 'unloaded' || reply.type === 'error')).toEqual({ type: 'unloaded' });
  await worker.terminate();
}
