import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { concatPcm } from '../../shared/audio/pcm';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, VadDetection, VadStreamOutput, VadTune } from '../../shared/worker.contract';
import type { WorkerEngine, WorkerStreams } from '../worker-runtime';
import { OnnxFormatError, readOnnxModelInfo } from '../tts/onnx-model-info';
import { loadSherpaVad, type SherpaVad, type SherpaVadConfig } from './sherpa-vad-binding';

/** `spec.options` of the silero VAD worker. */
export const SileroVadOptionsSchema = z.object({
  /** Speech probability above which a frame counts as speech. */
  threshold: z.number().gt(0).lt(1).default(0.5),
  /** Silence that must follow speech before "speech-end". */
  minSilenceDurationMs: z.number().nonnegative().default(300),
  /** Speech that must last this long before "speech-start" (shorter sounds are ignored). */
  minSpeechDurationMs: z.number().nonnegative().default(250),
  /** Longer speech is split into segments by sherpa (the stream stays "speaking"). */
  maxSpeechDurationMs: z.number().positive().default(60_000),
});
export type SileroVadOptions = z.infer<typeof SileroVadOptionsSchema>;

const SAMPLE_RATE_HZ = 16_000;
/** Silero v5 reads 512-sample (32 ms) windows at 16 kHz. */
const WINDOW_SAMPLES = 512;
const BUFFER_SECONDS = 120;

/** The silero v5 model shipped inside @ricky0123/vad-web (ISC). */
export function defaultSileroModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx');
}

/** Graph inputs of the silero versions sherpa runs (v5/v6, and v4 "legacy"). */
const SILERO_INPUT_LISTS = ['input, state, sr', 'input, sr, h, c'];

/**
 * sherpa aborts the process on a file that is not ONNX and exits on an ONNX model that is not
 * silero; both are caught here as typed errors that name the file.
 */
async function checkSileroModel(modelPath: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch {
    throw new AppError(ErrorCode.ModelMissing, `The VAD model file is missing: ${modelPath}`, false);
  }
  let inputs: string;
  try {
    inputs = readOnnxModelInfo(bytes).inputNames.join(', ');
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new AppError(ErrorCode.ModelInvalid, `The VAD model ${modelPath} is not an ONNX model (${error.message}).`, false);
    throw error;
  }
  if (!SILERO_INPUT_LISTS.includes(inputs)) {
    throw new AppError(ErrorCode.ModelInvalid, `The VAD model ${modelPath} is not a silero VAD model (inputs: ${inputs}).`, false);
  }
}

/** The options a run may change (the settings' VAD sensitivity). */
interface SileroTuning {
  threshold: number;
  minSilenceDurationMs: number;
}

/** Silence that ends the onset detector's speech: short, so a cough's onset is soon withdrawn. */
const ONSET_MIN_SILENCE_MS = 96;
/** The onset detector hears voice this far below the speech threshold, and never below the floor. */
const ONSET_THRESHOLD_BELOW = 0.2;
const ONSET_MIN_THRESHOLD = 0.2;

/** One microphone stream: its detector, the samples not yet fed, and where it is in time. */
interface VadStream {
  detector: SherpaVad;
  /**
   * A second detector on the same windows with no minimum speech: it fires at the first windows
   * silero hears as voice, a quarter second before the main detector confirms speech. Its state is
   * the stream's `probability`, which is what lets the avatar's voice duck at a user's first syllable.
   */
  onset: SherpaVad;
  /** The sensitivity the detector was built with. */
  tuning: SileroTuning;
  /** The sensitivity asked for; the detector is rebuilt with it at the next pause. */
  next: SileroTuning;
  /** Samples of the stream fed before this detector was built (sherpa counts from its own first sample). */
  detectorStartSamples: number;
  pending: Float32Array;
  samplesFed: number;
  speaking: boolean;
}

/**
 * Silero VAD (v5) run by sherpa-onnx's voice activity detector, one detector per stream. Audio is
 * fed in whole 32 ms windows so each event is placed at the window where the detector changed its
 * mind. sherpa does not expose silero's per-window probability: `probability` is 1 while the stream
 * is in speech or a second, minimum-speech-free detector hears voice, and 0 otherwise. A stream may be tuned to a new threshold or end silence (the settings);
 * sherpa fixes both per detector, so the stream gets a new detector at its next pause between utterances.
 */
export class SileroVadEngine implements WorkerEngine {
  private config: SherpaVadConfig | null = null;
  private options: SileroVadOptions = SileroVadOptionsSchema.parse({});
  private readonly streams = new Map<string, VadStream>();
  /**
   * Detectors no stream uses, by configuration. sherpa-onnx-node never frees a detector's native
   * memory (its ONNX session and 120 s buffer, about 10 MB), so a page that reloads or reconnects
   * would leak two per stream: they are reset and reused instead.
   */
  private readonly spareDetectors = new Map<string, SherpaVad[]>();
  private readonly detectorKeys = new WeakMap<SherpaVad, string>();

  async load(spec: LoadSpec): Promise<Record<string, unknown>> {
    const options = SileroVadOptionsSchema.safeParse(spec.options);
    if (!options.success) {
      throw new AppError(ErrorCode.ModelInvalid, `VAD options are invalid: ${options.error.issues[0]?.message ?? ''}`, false);
    }
    const modelPath = spec.modelPath ?? defaultSileroModelPath();
    await checkSileroModel(modelPath);
    this.options = options.data;
    this.config = {
      sileroVad: {
        model: modelPath,
        threshold: options.data.threshold,
        minSilenceDuration: options.data.minSilenceDurationMs / 1000,
        minSpeechDuration: options.data.minSpeechDurationMs / 1000,
        windowSize: WINDOW_SAMPLES,
        maxSpeechDuration: options.data.maxSpeechDurationMs / 1000,
      },
      sampleRate: SAMPLE_RATE_HZ,
      numThreads: spec.threads,
      provider: 'cpu',
      debug: false,
    };
    // Build one detector now so a broken model fails the load, not the first frame.
    this.recycle(this.createDetector(this.loadTuning()));
    return { engine: 'silero-vad', model: modelPath, windowMs: (WINDOW_SAMPLES * 1000) / SAMPLE_RATE_HZ, ...options.data };
  }

  async run(input: RunInput): Promise<{ data: unknown }> {
    throw new AppError(ErrorCode.InvalidMessage, `The VAD worker runs streams, not "${input.kind}" requests.`, true);
  }

  readonly stream: WorkerStreams = {
    open: (streamId, tune) => {
      const tuning = this.tuningOf(tune);
      this.streams.set(streamId, { detector: this.createDetector(tuning), onset: this.createOnsetDetector(tuning), tuning, next: tuning, detectorStartSamples: 0, pending: new Float32Array(0), samplesFed: 0, speaking: false });
    },
    push: (streamId, pcm) => this.push(this.streamOf(streamId), pcm),
    tune: (streamId, tune) => {
      this.streamOf(streamId).next = this.tuningOf(tune);
    },
    close: (streamId) => this.dropStream(streamId),
  };

  private dropStream(streamId: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.streams.delete(streamId);
    this.recycle(stream.detector);
    this.recycle(stream.onset);
  }

  private push(stream: VadStream, pcm: Float32Array): VadStreamOutput {
    // Never inside an utterance: its end must not move, nor its start be forgotten, mid-sentence.
    const { next } = stream;
    if (!stream.speaking && (stream.tuning.threshold !== next.threshold || stream.tuning.minSilenceDurationMs !== next.minSilenceDurationMs)) {
      this.recycle(stream.detector);
      this.recycle(stream.onset);
      stream.detector = this.createDetector(next);
      stream.onset = this.createOnsetDetector(next);
      stream.tuning = next;
      stream.detectorStartSamples = stream.samplesFed;
    }
    const events: VadDetection[] = [];
    const samples = stream.pending.length > 0 ? concatPcm([stream.pending, pcm]) : pcm;
    let offset = 0;
    for (; offset + WINDOW_SAMPLES <= samples.length; offset += WINDOW_SAMPLES) {
      const window = samples.subarray(offset, offset + WINDOW_SAMPLES);
      stream.detector.acceptWaveform(window);
      stream.onset.acceptWaveform(window);
      // Only its state is read: segments are dropped so its buffer stays empty.
      while (!stream.onset.isEmpty()) stream.onset.pop();
      stream.samplesFed += WINDOW_SAMPLES;
      this.collectEvents(stream, events);
    }
    stream.pending = samples.slice(offset);
    return { events, probability: stream.speaking || stream.onset.isDetected() ? 1 : 0 };
  }

  private streamOf(streamId: string): VadStream {
    const stream = this.streams.get(streamId);
    if (!stream) throw new AppError(ErrorCode.InvalidMessage, `There is no open VAD stream "${streamId}".`, true);
    return stream;
  }

  private tuningOf(tune: VadTune): SileroTuning {
    return { threshold: tune.threshold ?? this.options.threshold, minSilenceDurationMs: tune.minSilenceMs ?? this.options.minSilenceDurationMs };
  }

  release(streamId: string): void {
    this.dropStream(streamId);
  }

  async unload(): Promise<void> {
    this.streams.clear();
    this.spareDetectors.clear();
    this.config = null;
  }

  private collectEvents(stream: VadStream, events: VadDetection[]): void {
    const detected = stream.detector.isDetected();
    if (detected && !stream.speaking) {
      // sherpa starts a segment two windows plus the minimum speech duration before it triggers.
      const onsetSamples = stream.samplesFed - 2 * WINDOW_SAMPLES - (this.options.minSpeechDurationMs * SAMPLE_RATE_HZ) / 1000;
      events.push({ event: 'speech-start', atMs: (Math.max(0, onsetSamples) * 1000) / SAMPLE_RATE_HZ });
    }
    let segmentEndSamples: number | null = null;
    while (!stream.detector.isEmpty()) {
      const segment = stream.detector.front(false);
      segmentEndSamples = stream.detectorStartSamples + segment.start + segment.samples.length;
      stream.detector.pop();
    }
    if (!detected && stream.speaking) {
      events.push({ event: 'speech-end', atMs: ((segmentEndSamples ?? stream.samplesFed) * 1000) / SAMPLE_RATE_HZ });
    }
    stream.speaking = detected;
  }

  private loadTuning(): SileroTuning {
    return { threshold: this.options.threshold, minSilenceDurationMs: this.options.minSilenceDurationMs };
  }

  private createDetector(tuning: SileroTuning, overrides: Partial<SherpaVadConfig['sileroVad']> = {}): SherpaVad {
    if (!this.config) throw new AppError(ErrorCode.ModelMissing, 'The VAD model is not loaded.', true);
    const { Vad } = loadSherpaVad();
    const sileroVad = { ...this.config.sileroVad, threshold: tuning.threshold, minSilenceDuration: tuning.minSilenceDurationMs / 1000, ...overrides };
    const key = JSON.stringify(sileroVad);
    const spare = this.spareDetectors.get(key)?.pop();
    if (spare) return spare;
    const detector = new Vad({ ...this.config, sileroVad }, BUFFER_SECONDS);
    this.detectorKeys.set(detector, key);
    return detector;
  }

  /** A detector no stream uses any more: back to its configuration's spares, as good as new. */
  private recycle(detector: SherpaVad): void {
    const key = this.detectorKeys.get(detector);
    if (key === undefined) return;
    detector.reset();
    const spares = this.spareDetectors.get(key) ?? [];
    spares.push(detector);
    this.spareDetectors.set(key, spares);
  }

  /** The stream's onset detector: voice from its first windows, ended by a short silence. */
  private createOnsetDetector(tuning: SileroTuning): SherpaVad {
    // sherpa's C API reads 0 as "unset" (its 0.25 s default): one sample is the shortest it takes.
    // A lower bar than speech's: silero's probability crosses it a window sooner at a soft onset, and a
    // false onset costs only a brief dip of the avatar's voice.
    const threshold = Math.max(ONSET_MIN_THRESHOLD, tuning.threshold - ONSET_THRESHOLD_BELOW);
    return this.createDetector(tuning, { threshold, minSpeechDuration: 1 / SAMPLE_RATE_HZ, minSilenceDuration: ONSET_MIN_SILENCE_MS / 1000 });
  }
}
