import type { VadRunResult } from '../../shared/worker.contract';
import type { WorkerPool } from '../pool/worker-pool';
import type { Stage } from './stage';

/** 16 kHz mono microphone samples in capture order. */
export interface MicFrame {
  pcm: Float32Array<ArrayBuffer>;
  /** Position of the frame's first sample in the session's mic stream. */
  streamMs: number;
}

/** A frame with the VAD's verdict on it. */
export interface VadOutput {
  frame: MicFrame;
  events: VadRunResult['events'];
  probability: number;
}

/** VAD sensitivity from the settings, in the VAD's own terms (speech probability, ms); absent: the worker's load options. */
export interface VadSensitivity {
  threshold?: number | undefined;
  minSilenceMs?: number | undefined;
}

export interface VadStageOptions {
  pool: WorkerPool;
  sessionId: string;
  /** Read for every frame, so a settings change reaches the worker without a restart (it applies it from the next utterance). */
  sensitivity?: (() => VadSensitivity) | undefined;
}

/** Mic frames → frames with speech-start / speech-end events (the worker keeps one stream per session). */
export function vadStage(options: VadStageOptions): Stage<MicFrame, VadOutput> {
  return async function* detect(frames, signal) {
    for await (const frame of frames) {
      const lease = await options.pool.lease('vad', options.sessionId, signal);
      try {
        const { threshold, minSilenceMs } = options.sensitivity?.() ?? {};
        const result = (await lease.worker.run(
          {
            kind: 'vad',
            streamId: options.sessionId,
            sampleRateHz: 16000,
            pcm: frame.pcm,
            ...(threshold !== undefined ? { threshold } : {}),
            ...(minSilenceMs !== undefined ? { minSilenceMs } : {}),
          },
          { signal },
        )) as VadRunResult;
        yield { frame, events: result.events, probability: result.probability };
      } finally {
        lease.release();
      }
    }
  };
}
