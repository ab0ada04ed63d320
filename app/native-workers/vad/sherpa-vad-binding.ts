import { createRequire } from 'node:module';

/** The part of sherpa-onnx-node's voice activity detector we use (the package ships no types). */
export interface SherpaVadConfig {
  sileroVad: {
    model: string;
    threshold: number;
    minSilenceDuration: number;
    minSpeechDuration: number;
    windowSize: number;
    maxSpeechDuration: number;
  };
  sampleRate: number;
  numThreads: number;
  provider: 'cpu';
  debug: boolean;
}

export interface SherpaSpeechSegment {
  /** First sample of the segment, counted from the detector's first sample. */
  start: number;
  samples: Float32Array;
}

export interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  front(enableExternalBuffer?: boolean): SherpaSpeechSegment;
  pop(): void;
  /** Back to the state of a new detector (model state, buffer, segments). */
  reset(): void;
}

interface SherpaVadModule {
  Vad: new (config: SherpaVadConfig, bufferSizeInSeconds: number) => SherpaVad;
}

/** Loads sherpa-onnx-node's native addon (CommonJS) lazily, inside the worker thread that uses it. */
export function loadSherpaVad(): SherpaVadModule {
  return createRequire(import.meta.url)('sherpa-onnx-node') as SherpaVadModule;
}
