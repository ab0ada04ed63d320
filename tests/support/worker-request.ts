import type { Worker } from 'node:worker_threads';
import { FromWorkerSchema, type FromWorker, type ToWorker, type VadDetection, type VadTune } from '../../app/shared/worker.contract';

/**
 * Posts `message` to a bare worker thread and resolves with the first validated reply that
 * `accept` takes; `onReply` sees every validated reply before that (streamed chunks, progress).
 * `message` is loosely typed: tests also send what the contract forbids, to see it refused.
 */
export function requestWorker(
  worker: Worker,
  message: object,
  accept: (reply: FromWorker) => boolean,
  onReply?: (reply: FromWorker) => void,
): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const reply = FromWorkerSchema.parse(raw);
      onReply?.(reply);
      if (!accept(reply)) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(reply);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(message);
  });
}

const FRAME_SAMPLES = 320;

/** Opened VAD streams per worker, so a test can feed one stream in several calls. */
const openStreams = new WeakMap<Worker, Map<string, VadTune>>();

/**
 * Feeds `pcm` to a VAD worker's stream `streamId` in 20 ms frames (opening the stream on first
 * use), sending `tuneAt(streamMs)` whenever it changes; resolves with the events and the last probability.
 */
export async function detectOnStream(
  worker: Worker,
  streamId: string,
  pcm: Float32Array,
  tuneAt: (streamMs: number) => VadTune = () => ({}),
): Promise<{ events: VadDetection[]; probability: number; firstVoicedAtMs: number | undefined; speechStartArrivedAtMs: number | undefined }> {
  const streams = openStreams.get(worker) ?? new Map<string, VadTune>();
  openStreams.set(worker, streams);
  const events: VadDetection[] = [];
  let probability = 0;
  // Stream positions (end of the frame) where voice was first reported, and where the speech-start event came.
  let firstVoicedAtMs: number | undefined;
  let speechStartArrivedAtMs: number | undefined;
  for (let offset = 0; offset < pcm.length; offset += FRAME_SAMPLES) {
    const tune = tuneAt((offset * 1000) / 16000);
    const current = streams.get(streamId);
    if (!current) worker.postMessage({ type: 'stream.open', streamId, tune } satisfies ToWorker);
    else if (current.threshold !== tune.threshold || current.minSilenceMs !== tune.minSilenceMs) {
      worker.postMessage({ type: 'stream.tune', streamId, tune } satisfies ToWorker);
    }
    streams.set(streamId, tune);
    const frame = pcm.slice(offset, offset + FRAME_SAMPLES);
    const reply = await requestWorker(
      worker,
      { type: 'stream.push', streamId, pcm: frame },
      (r) => (r.type === 'stream.output' || r.type === 'error') && r.streamId === streamId,
    );
    if (reply.type !== 'stream.output') throw new Error(`VAD failed: ${JSON.stringify(reply)}`);
    events.push(...reply.output.events);
    probability = reply.output.probability;
    const frameEndMs = ((offset + frame.length) * 1000) / 16000;
    if (probability >= 0.5) firstVoicedAtMs ??= frameEndMs;
    if (reply.output.events.some((event) => event.event === 'speech-start')) speechStartArrivedAtMs ??= frameEndMs;
  }
  return { events, probability, firstVoicedAtMs, speechStartArrivedAtMs };
}

/** Forgets that `streamId` is open (after a release or close sent by the test). */
export function forgetStream(worker: Worker, streamId: string): void {
  openStreams.get(worker)?.delete(streamId);
}
