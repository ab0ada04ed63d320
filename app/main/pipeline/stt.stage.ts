import type { SttRunResult } from '../../shared/worker.contract';
import type { WorkerPool } from '../pool/worker-pool';
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
}

/** Utterances → final transcripts. */
export function sttStage(options: SttStageOptions): Stage<Utterance, string> {
  return async function* transcribe(utterances, signal) {
    for await (const utterance of utterances) {
      const lease = await options.pool.lease('stt', options.sessionId, signal);
      try {
        const result = (await lease.worker.run(
          { kind: 'stt', sampleRateHz: utterance.sampleRateHz, pcm: utterance.pcm, final: true, ...(options.language ? { language: options.language } : {}) },
          { signal },
        )) as SttRunResult;
        yield result.text.trim();
      } finally {
        lease.release();
      }
    }
  };
}
