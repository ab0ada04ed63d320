import type { VadStreamOutput, VadTune } from '../../shared/worker.contract';
import type { WorkerPool } from '../pool/worker-pool';
import { AsyncQueue } from './async-queue';
import type { Stage } from './stage';

/** 16 kHz mono microphone samples in capture order. */
export interface MicFrame {
  pcm: Float32Array<ArrayBuffer>;
  /** Position of the frame's first sample in the session's mic stream. */
  streamMs: number;
  /** performance.now() when the frame reached the engine (diagnostics: how long its VAD verdict took). */
  receivedMs?: number | undefined;
}

/** A frame with the VAD's verdict on it. */
export interface VadOutput extends VadStreamOutput {
  frame: MicFrame;
}

/** Audio sent to the VAD and not yet judged, at most: beyond it frames are dropped (a flood, or a stalled worker). */
export const MAX_VAD_IN_FLIGHT_MS = 5_000;

export interface VadStageOptions {
  pool: WorkerPool;
  sessionId: string;
  /** Read for every frame (locally); a change is sent to the stream once and applies from the next utterance. */
  sensitivity?: (() => VadTune) | undefined;
  /** Frames were dropped because the VAD is more than MAX_VAD_IN_FLIGHT_MS behind. */
  onDrop?(droppedMs: number): void;
}

const SAMPLE_RATE_HZ = 16_000;

/**
 * Mic frames → frames with speech-start / speech-end events. The session's VAD stream is opened
 * once in its worker; each frame is one message there and one back, answered in order.
 */
export function vadStage(options: VadStageOptions): Stage<MicFrame, VadOutput> {
  return async function* detect(frames, signal) {
    const outputs = new AsyncQueue<VadOutput>(signal);
    const inFlight: MicFrame[] = [];
    let inFlightSamples = 0;
    let inputEnded = false;
    let tune: VadTune = { ...options.sensitivity?.() };
    const stream = await options.pool.openStream(
      options.sessionId,
      tune,
      {
        output: (output) => {
          const frame = inFlight.shift();
          if (!frame) return;
          inFlightSamples -= frame.pcm.length;
          outputs.push({ frame, events: output.events, probability: output.probability });
          if (inputEnded && inFlight.length === 0) outputs.end();
        },
        error: (error) => outputs.fail(error),
      },
      signal,
    );
    const feed = async (): Promise<void> => {
      for await (const frame of frames) {
        const next = options.sensitivity?.() ?? {};
        if (next.threshold !== tune.threshold || next.minSilenceMs !== tune.minSilenceMs) {
          tune = { ...next };
          stream.tune(tune);
        }
        if (((inFlightSamples + frame.pcm.length) * 1000) / SAMPLE_RATE_HZ > MAX_VAD_IN_FLIGHT_MS) {
          options.onDrop?.((frame.pcm.length * 1000) / SAMPLE_RATE_HZ);
          continue;
        }
        inFlight.push(frame);
        inFlightSamples += frame.pcm.length;
        stream.push(frame.pcm);
      }
      inputEnded = true;
      if (inFlight.length === 0) outputs.end();
    };
    feed().catch((error: unknown) => outputs.fail(error));
    try {
      yield* outputs;
    } finally {
      stream.close();
    }
  };
}
