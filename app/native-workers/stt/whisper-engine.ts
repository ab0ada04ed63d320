import { availableParallelism } from 'node:os';
import { initWhisper, type TranscribeResult, type WhisperContext } from '@fugood/whisper.node';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, SttRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { checkWhisperModelFile } from './whisper-model-check';

const SAMPLE_RATE_HZ = 16000;

/** `LoadSpec.options` the whisper engine understands. */
const WhisperOptionsSchema = z.object({
  /** Spoken language for multilingual models ("en", "de", … or "auto"); a run's own `language` wins. */
  language: z.string().min(1).default('en'),
  /** A native call that has not answered by then is declared hung (see `hangTimeoutMsFor`). */
  hangTimeoutMs: z.number().positive().optional(),
});

/** Opens a whisper.cpp context; injectable so the engine's bookkeeping can be tested without native code. */
export type OpenWhisper = (options: { filePath: string; useGpu: boolean }) => Promise<WhisperContext>;

type NativeOutcome = { kind: 'done'; result: TranscribeResult } | { kind: 'failed'; error: unknown } | { kind: 'hung' };

/**
 * whisper.cpp in-process through @fugood/whisper.node: one model loaded once, 16 kHz PCM transcribed
 * from memory. The binding cannot interrupt a running transcription (its stop() only discards the
 * result, and then never settles the promise), so a cancelled run is answered at once while the native
 * call finishes in the background; the next run waits for it. Native calls never overlap.
 */
export class WhisperEngine implements WorkerEngine {
  private context: WhisperContext | undefined;
  private threads = 1;
  /** Undefined for English-only models: they transcribe English whatever a run asks. */
  private language: string | undefined;
  private hangTimeoutMs: number | undefined;
  /** Settles when the native transcription in progress (possibly for a cancelled run) is over. */
  private nativeCall: Promise<void> | undefined;

  constructor(private readonly openWhisper: OpenWhisper = initWhisper) {}

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    if (spec.kind !== 'stt') throw new AppError(ErrorCode.InvalidMessage, `The whisper engine runs speech-to-text models, not "${spec.kind}".`, false);
    if (!spec.modelPath) throw new AppError(ErrorCode.ModelMissing, 'No whisper model file is configured (the load spec has no modelPath).', false);
    const options = WhisperOptionsSchema.safeParse(spec.options);
    if (!options.success) throw new AppError(ErrorCode.InvalidMessage, `Invalid whisper options: ${options.error.issues[0]?.message ?? 'invalid'}`, false);

    progress(0, 'checking the whisper model file');
    const summary = await checkWhisperModelFile(spec.modelPath);
    progress(0.2, 'loading the whisper model');
    let context: WhisperContext;
    try {
      context = await this.openWhisper({ filePath: spec.modelPath, useGpu: (spec.gpuLayers ?? 0) > 0 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError(ErrorCode.ModelInvalid, `whisper.cpp could not load "${spec.modelPath}" (${reason}).`, false, { cause: error });
    }
    // Swap only after the new model loaded: a failed reload keeps the worker serving the old one.
    await this.unload();
    this.context = context;
    this.threads = Math.max(1, Math.min(spec.threads, availableParallelism()));
    // English-only models ignore the language, except "auto", which costs an extra encoder pass.
    this.language = summary.multilingual ? options.data.language : undefined;
    this.hangTimeoutMs = options.data.hangTimeoutMs;
    return {
      modelName: spec.modelName,
      modelPath: spec.modelPath,
      modelBytes: summary.fileBytes,
      weightType: summary.weightType,
      layers: summary.hparams.nAudioLayer,
      width: summary.hparams.nAudioState,
      multilingual: summary.multilingual,
      language: this.language ?? 'en',
      threads: this.threads,
      // The binding exposes audio_ctx for Parakeet only: every run encodes a full 30 s window.
      audioCtx: summary.hparams.nAudioCtx,
    };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: SttRunResult }> {
    if (input.kind !== 'stt') throw new AppError(ErrorCode.InvalidMessage, `The whisper engine transcribes audio; it got a "${input.kind}" request.`, true);
    const whisper = this.context;
    if (!whisper) throw new AppError(ErrorCode.ModelMissing, 'The whisper model is not loaded.', true);
    const pcm16 = float32ToInt16Pcm(input.pcm);
    const audioMs = (pcm16.length / SAMPLE_RATE_HZ) * 1000;
    if (pcm16.length === 0) return { data: { text: '', segments: [] } };

    while (this.nativeCall) {
      context.progress(0, 'waiting for the previous transcription to finish');
      await untilAborted(this.nativeCall, context.signal);
    }
    throwIfAborted(context.signal);

    const language = this.language === undefined ? 'en' : (input.language ?? this.language);
    const outcome = this.startNative(whisper, pcm16, audioMs, language, context);
    const finished = await untilAborted(outcome, context.signal);
    if (finished.kind === 'hung') {
      throw new AppError(ErrorCode.WorkerHung, `whisper.cpp gave no answer within ${Math.round(this.hangTimeoutMsFor(audioMs) / 1000)} s.`, true);
    }
    if (finished.kind === 'failed') {
      const reason = finished.error instanceof Error ? finished.error.message : String(finished.error);
      throw new AppError(ErrorCode.Internal, `whisper.cpp failed to transcribe (${reason}).`, true, { cause: finished.error });
    }
    return { data: toSttResult(finished.result, audioMs) };
  }

  async unload(): Promise<void> {
    const whisper = this.context;
    this.context = undefined;
    if (!whisper) return;
    // Free the model only once no native call uses it.
    await this.nativeCall;
    await whisper.release();
  }

  /** Starts one native transcription and tracks it in `nativeCall` until it settles (or is declared hung). */
  private startNative(whisper: WhisperContext, pcm16: Int16Array, audioMs: number, language: string, context: RunContext): Promise<NativeOutcome> {
    const { promise } = whisper.transcribeData(pcm16.buffer as ArrayBuffer, {
      language,
      maxThreads: this.threads,
      temperature: 0,
      // No re-decoding at higher temperatures: bounded latency, and the same input gives the same text.
      temperatureInc: 0,
      onProgress: (percent) => {
        if (!context.signal.aborted) context.progress(percent / 100, 'transcribing');
      },
    });
    // The binding drops native errors without settling its promise; a deadline keeps the worker usable.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<NativeOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'hung' }), this.hangTimeoutMsFor(audioMs));
    });
    const outcome = Promise.race([
      promise.then(
        (result): NativeOutcome => ({ kind: 'done', result }),
        (error: unknown): NativeOutcome => ({ kind: 'failed', error }),
      ),
      hung,
    ]);
    const settled = outcome.then(() => {
      clearTimeout(timer);
      if (this.nativeCall === settled) this.nativeCall = undefined;
    });
    this.nativeCall = settled;
    return outcome;
  }

  /**
   * Only a guard against the binding never settling, so far above any real run: the prebuilt binding
   * has no SIMD code, and tiny.en takes 80–90 s per 30 s window on a busy 2-core machine.
   */
  private hangTimeoutMsFor(audioMs: number): number {
    return this.hangTimeoutMs ?? Math.max(600_000, 60 * audioMs);
  }
}

/** 16 kHz Float32 samples in [-1, 1] → the Int16 PCM the binding takes; NaN/∞ is bad audio. */
export function float32ToInt16Pcm(pcm: Float32Array): Int16Array {
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) {
    const sample = pcm[i]!;
    if (!Number.isFinite(sample)) throw new AppError(ErrorCode.BadAudio, `Audio sample ${i} is not a finite number (${sample}).`, true);
    const clamped = Math.max(-1, Math.min(1, sample));
    out[i] = Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767);
  }
  return out;
}

/** Segment times come in ms; timestamps a model hallucinates past the audio are clamped to it. */
function toSttResult(result: TranscribeResult, audioMs: number): SttRunResult {
  const segments = result.segments.map((segment) => {
    const startMs = Math.min(Math.max(segment.t0, 0), audioMs);
    return { text: segment.text.trim(), startMs, endMs: Math.min(Math.max(segment.t1, startMs), audioMs) };
  });
  return { text: result.result.trim(), segments };
}

function cancelledError(): AppError {
  return new AppError(ErrorCode.Cancelled, 'The transcription was cancelled.', true);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw cancelledError();
}

/** `promise`, or a cancelled error as soon as `signal` aborts (the promise itself keeps running). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
