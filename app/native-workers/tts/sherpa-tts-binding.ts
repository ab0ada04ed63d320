import { createRequire } from 'node:module';

/** The part of sherpa-onnx-node's offline TTS we use (the package ships no types). */
export interface SherpaVitsConfig {
  model: {
    vits: {
      model: string;
      tokens: string;
      lexicon: string;
      dataDir: string;
      noiseScale: number;
      noiseScaleW: number;
      lengthScale: number;
    };
    numThreads: number;
    provider: 'cpu';
    debug: boolean;
  };
  maxNumSentences: number;
  silenceScale: number;
}

export interface SherpaGeneratedAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface SherpaGenerateRequest {
  text: string;
  sid: number;
  speed: number;
  generationConfig: { silenceScale: number; speed: number; sid: number };
  /** Called with each finished sentence; returning 0 stops generation. */
  onProgress?: (info: { samples: Float32Array; progress: number }) => number;
}

export interface SherpaOfflineTts {
  readonly sampleRate: number;
  readonly numSpeakers: number;
  generateAsync(request: SherpaGenerateRequest): Promise<SherpaGeneratedAudio>;
}

interface SherpaTtsModule {
  OfflineTts: { createAsync(config: SherpaVitsConfig): Promise<SherpaOfflineTts> };
}

/** Loads sherpa-onnx-node's native addon (CommonJS) inside the worker thread that uses it. */
export function loadSherpaTts(): SherpaTtsModule {
  return createRequire(import.meta.url)('sherpa-onnx-node') as SherpaTtsModule;
}
