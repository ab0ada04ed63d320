import type { Lease, WorkerPool } from '../pool/worker-pool';
import type { Stage } from './stage';

/** One finished user utterance (16 kHz mono). */
export interface Utterance {
  pcm: Float32Array<ArrayBuffer>;
  sampleRateHz: 16000;
}

export interface SttStageOptions {
  pool: WorkerPool;
  sessionId: string;
  language?: string;
  /** Whisper's initial prompt for this run (see `SttRunInputSchema.prompt`). */
  prompt?: string;
}

async function transcribe(lease: Lease, utterance: Utterance, final: boolean, options: SttStageOptions, signal: AbortSignal): Promise<string> {
  const result = await lease.worker.run(
    { kind: 'stt', sampleRateHz: utterance.sampleRateHz, pcm: utterance.pcm, final, ...(options.language ? { language: options.language } : {}), ...(options.prompt ? { prompt: options.prompt } : {}) },
    { signal },
  );
  return result.text.trim();
}

/** Utterances → final transcripts. */
export function sttStage(options: SttStageOptions): Stage<Utterance, string> {
  return async function* transcribeAll(utterances, signal) {
    for await (const utterance of utterances) {
      const lease = await options.pool.lease('stt', options.sessionId, signal);
      try {
        yield await transcribe(lease, utterance, true, options, signal);
      } finally {
        lease.release();
      }
    }
  };
}

/**
 * An STT worker for the session only if one is free right now: an interim run must never queue in
 * front of (or behind) a final one. The pool hands out a free worker with an already resolved
 * promise, which wins the race against the resolved `undefined`; a waiting lease loses and is withdrawn.
 */
export async function leaseSttIfIdle(pool: WorkerPool, sessionId: string): Promise<Lease | undefined> {
  const waiting = new AbortController();
  const leased = pool.lease('stt', sessionId, waiting.signal);
  const lease = await Promise.race([leased, Promise.resolve(undefined)]);
  if (lease) return lease;
  waiting.abort();
  // A worker freed between the race and the abort still resolves the lease: give it straight back.
  leased.then((late) => late.release(), () => undefined);
  return undefined;
}

/**
 * One transcription outside the turn's own STT stage (a partial one, the words at a pause, speech
 * over the avatar) on a lease already held, which it releases; `signal` cancels it in the worker.
 */
export async function transcribeOnLease(lease: Lease, utterance: Utterance, final: boolean, options: SttStageOptions, signal: AbortSignal): Promise<string> {
  try {
    return await transcribe(lease, utterance, final, options, signal);
  } finally {
    lease.release();
  }
}
