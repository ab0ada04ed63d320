import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, SttRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { openSmartWhisper } from './smart-whisper-binding';
import { WHISPER_AUDIO_CTX } from './whisper-ggml-layout';
import { checkWhisperModelFile } from './whisper-model-check';

const SAMPLE_RATE_HZ = 16000;
/** The encoder sees 30 s as 1500 frames: one frame per 20 ms. */
const MS_PER_ENCODER_FRAME = 30_000 / WHISPER_AUDIO_CTX;

/** `LoadSpec.options` the whisper engine understands. */
const WhisperOptionsSchema = z.object({
  /** Spoken language for multilingual models ("en", "de", … or "auto"); a run's own `language` wins. */
  language: z.string().min(1).default('en'),
  /**
   * Encode only the utterance (whisper.cpp `audio_ctx`) plus this many ms of margin instead of a full
   * 30 s window; `false` always encodes 30 s. A short utterance then costs a fraction of the encoder.
   * Measured on tiny.en with short Piper replies (0.6–2 s): a 1 s margin made whisper repeat them
   * ("The sky is blue. The sky is blue. …", WER 0.61); 2 s gave WER 0.135 like 3 s, for about 25 ms more.
   */
  trimAudioContextMarginMs: z.union([z.number().nonnegative(), z.literal(false)]).default(2000),
  /**
   * At load, transcribe this many ms of quiet noise once: whisper.cpp's first call allocates its
   * compute buffers and pages the weights in (about 1 s on a 2-core CPU instead of 0.15 s), which
   * would otherwise land on the user's first turn. 0 skips it.
   */
  warmUpMs: z.number().nonnegative().default(1000),
  /**
   * Drop a sentence that repeats the one before it (a decoder loop, see `withoutDecoderLoops`). Off
   * for transcribing speech that may really repeat itself (a small LLM's reply read back).
   */
  dropRepeatedSentences: z.boolean().default(true),
  /** A native call that has not answered by then is declared hung (see `hangTimeoutMsFor`). */
  hangTimeoutMs: z.number().positive().optional(),
});

/** One transcribed segment as whisper.cpp reports it (times in ms). */
export interface NativeSegment {
  text: string;
  from: number;
  to: number;
}

/** The whisper.cpp parameters the engine sets (smart-whisper `TranscribeParams` names). */
export interface NativeTranscribeParams {
  strategy: 0;
  n_threads: number;
  language: string;
  temperature: number;
  temperature_inc: number;
  no_context: boolean;
  print_progress: boolean;
  audio_ctx: number;
  /** Tokens per segment at most (0: no limit); bounds a decoder caught in a repetition loop. */
  max_tokens: number;
  format: 'simple';
  /** Text that primes the decoder (whisper.cpp `initial_prompt`); absent: none. */
  initial_prompt?: string;
}

/** A loaded whisper.cpp model. */
export interface NativeWhisper {
  /** Resolves with every segment once whisper.cpp is done; `onSegment` sees each as it is decoded. */
  transcribe(pcm: Float32Array, params: NativeTranscribeParams, onSegment: (segment: NativeSegment) => void): Promise<NativeSegment[]>;
  free(): Promise<void>;
  /** Which CPU-level build of the addon runs it (whisper-cpu-level.ts), when known. */
  cpuLevel?: string;
}

/** Opens a whisper.cpp model; injectable so the engine's bookkeeping can be tested without native code. */
export type OpenWhisper = (options: { filePath: string; useGpu: boolean }) => Promise<NativeWhisper>;

type NativeOutcome = { kind: 'done'; segments: NativeSegment[] } | { kind: 'failed'; error: unknown } | { kind: 'hung' };

/**
 * whisper.cpp in-process through smart-whisper, compiled at install for this CPU
 * (whisper-addon/build-addon.mjs): one model loaded once, 16 kHz PCM transcribed from memory. The
 * binding cannot interrupt a running transcription, so a cancelled run is answered at once while the
 * native call finishes in the background; the next run waits for it. Native calls never overlap.
 */
export class WhisperEngine implements WorkerEngine {
  private model: NativeWhisper | undefined;
  private threads = 1;
  /** Undefined for English-only models: they transcribe English whatever a run asks. */
  private language: string | undefined;
  private trimMarginMs: number | false = false;
  private hangTimeoutMs: number | undefined;
  private dropRepeats = true;
  /** Settles when the native transcription in progress (possibly for a cancelled run) is over. */
  private nativeCall: Promise<void> | undefined;

  constructor(private readonly openWhisper: OpenWhisper = openSmartWhisper) {}

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    if (spec.kind !== 'stt') throw new AppError(ErrorCode.InvalidMessage, `The whisper engine runs speech-to-text models, not "${spec.kind}".`, false);
    if (!spec.modelPath) throw new AppError(ErrorCode.ModelMissing, 'No whisper model file is configured (the load spec has no modelPath).', false);
    const options = WhisperOptionsSchema.safeParse(spec.options);
    if (!options.success) throw new AppError(ErrorCode.InvalidMessage, `Invalid whisper options: ${options.error.issues[0]?.message ?? 'invalid'}`, false);

    progress(0, 'checking the whisper model file');
    // whisper.cpp trusts the file (and smart-whisper crashes on a file it cannot load): check it first.
    const summary = await checkWhisperModelFile(spec.modelPath);
    progress(0.2, 'loading the whisper model');
    let model: NativeWhisper;
    try {
      model = await this.openWhisper({ filePath: spec.modelPath, useGpu: (spec.gpuLayers ?? 0) > 0 });
    } catch (error) {
      if (error instanceof AppError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError(ErrorCode.ModelInvalid, `whisper.cpp could not load "${spec.modelPath}" (${reason}).`, false, { cause: error });
    }
    // Swap only after the new model loaded: a failed reload keeps the worker serving the old one.
    await this.unload();
    this.model = model;
    this.threads = Math.max(1, Math.min(spec.threads, availableParallelism()));
    // English-only models ignore the language, except "auto", which costs an extra encoder pass.
    this.language = summary.multilingual ? options.data.language : undefined;
    this.trimMarginMs = options.data.trimAudioContextMarginMs;
    this.hangTimeoutMs = options.data.hangTimeoutMs;
    this.dropRepeats = options.data.dropRepeatedSentences;
    if (options.data.warmUpMs > 0) {
      progress(0.8, 'warming up whisper.cpp');
      await this.warmUp(model, options.data.warmUpMs);
    }
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
      audioCtx: summary.hparams.nAudioCtx,
      trimAudioContextMarginMs: this.trimMarginMs,
      warmUpMs: options.data.warmUpMs,
      cpuLevel: model.cpuLevel ?? 'unknown',
    };
  }

  /** One throwaway transcription with the run parameters; its text does not matter. */
  private async warmUp(model: NativeWhisper, audioMs: number): Promise<void> {
    const pcm = new Float32Array(Math.round((audioMs * SAMPLE_RATE_HZ) / 1000));
    // Deterministic low noise (silence may take a shortcut through the decoder).
    for (let i = 0, seed = 1; i < pcm.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      pcm[i] = ((seed / 0x7fffffff) * 2 - 1) * 0.01;
    }
    const signal = new AbortController().signal;
    const outcome = await this.startNative(model, pcm, audioMs, this.paramsFor(audioMs, undefined), { signal, progress: () => undefined, emitChunk: () => undefined });
    if (outcome.kind !== 'done') {
      const reason = outcome.kind === 'hung' ? 'no answer' : outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      throw new AppError(ErrorCode.ModelInvalid, `whisper.cpp failed its warm-up transcription (${reason}).`, false);
    }
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: SttRunResult }> {
    if (input.kind !== 'stt') throw new AppError(ErrorCode.InvalidMessage, `The whisper engine transcribes audio; it got a "${input.kind}" request.`, true);
    const model = this.model;
    if (!model) throw new AppError(ErrorCode.ModelMissing, 'The whisper model is not loaded.', true);
    const pcm = clampedPcm(input.pcm);
    const audioMs = (pcm.length / SAMPLE_RATE_HZ) * 1000;
    if (pcm.length === 0) return { data: { text: '', segments: [] } };

    while (this.nativeCall) {
      context.progress(0, 'waiting for the previous transcription to finish');
      await untilAborted(this.nativeCall, context.signal);
    }
    throwIfAborted(context.signal);

    const params = { ...this.paramsFor(audioMs, input.language), ...(input.prompt ? { initial_prompt: input.prompt } : {}) };
    context.progress(0, 'transcribing');
    const finished = await untilAborted(this.startNative(model, pcm, audioMs, params, context), context.signal);
    if (finished.kind === 'hung') {
      throw new AppError(ErrorCode.WorkerHung, `whisper.cpp gave no answer within ${Math.round(this.hangTimeoutMsFor(audioMs) / 1000)} s.`, true);
    }
    if (finished.kind === 'failed') {
      const reason = finished.error instanceof Error ? finished.error.message : String(finished.error);
      throw new AppError(ErrorCode.Internal, `whisper.cpp failed to transcribe (${reason}).`, true, { cause: finished.error });
    }
    return { data: toSttResult(finished.segments, audioMs, this.dropRepeats) };
  }

  async unload(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    if (!model) return;
    // Free the model only once no native call uses it.
    await this.nativeCall;
    await model.free();
  }

  private paramsFor(audioMs: number, language: string | undefined): NativeTranscribeParams {
    return {
      strategy: 0,
      n_threads: this.threads,
      language: this.language === undefined ? 'en' : (language ?? this.language),
      temperature: 0,
      // No re-decoding at higher temperatures: bounded latency, and the same input gives the same text.
      temperature_inc: 0,
      // Every request is a whole utterance: no prompt from the previous one.
      no_context: true,
      print_progress: false,
      audio_ctx: audioContextFor(audioMs, this.trimMarginMs),
      max_tokens: maxTokensFor(audioMs),
      format: 'simple',
    };
  }

  /** Starts one native transcription and tracks it in `nativeCall` until it settles (or is declared hung). */
  private startNative(model: NativeWhisper, pcm: Float32Array, audioMs: number, params: NativeTranscribeParams, context: RunContext): Promise<NativeOutcome> {
    const promise = model.transcribe(pcm, params, (segment) => {
      if (!context.signal.aborted) context.progress(Math.min(1, segment.to / audioMs), 'transcribing');
    });
    // A guard against native code that never answers: the worker stays usable.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<NativeOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'hung' }), this.hangTimeoutMsFor(audioMs));
    });
    const outcome = Promise.race([
      promise.then(
        (segments): NativeOutcome => ({ kind: 'done', segments }),
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

  /** Far above any real run, even with 2 threads on a machine loaded many times over. */
  private hangTimeoutMsFor(audioMs: number): number {
    return this.hangTimeoutMs ?? Math.max(120_000, 20 * audioMs);
  }
}

/**
 * Text tokens a segment of `audioMs` may hold: fast speech is about 4 words (5–6 tokens) a second.
 * With a cut audio context, whisper can fall into repeating a short utterance ("The answer is 16.
 * The answer is 16. …") until its 224-token text context is full, which costs seconds; this cap
 * ends such a loop after about one repetition.
 */
export function maxTokensFor(audioMs: number): number {
  return Math.ceil((audioMs / 1000) * 8) + 8;
}

/**
 * Encoder frames for `audioMs` of audio plus the margin (whisper.cpp `audio_ctx`), or 0 (the full
 * 30 s window) when trimming is off or the audio fills the window anyway.
 */
export function audioContextFor(audioMs: number, marginMs: number | false): number {
  if (marginMs === false) return 0;
  const frames = Math.ceil((audioMs + marginMs) / MS_PER_ENCODER_FRAME);
  return frames >= WHISPER_AUDIO_CTX ? 0 : frames;
}

/** 16 kHz Float32 samples clamped to [-1, 1] (a copy; the binding copies them again); NaN/∞ is bad audio. */
export function clampedPcm(pcm: Float32Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) {
    const sample = pcm[i]!;
    if (!Number.isFinite(sample)) throw new AppError(ErrorCode.BadAudio, `Audio sample ${i} is not a finite number (${sample}).`, true);
    out[i] = Math.max(-1, Math.min(1, sample));
  }
  return out;
}

/** Timestamps a model hallucinates past the audio are clamped to it. */
function toSttResult(native: NativeSegment[], audioMs: number, dropRepeats: boolean): SttRunResult {
  const segments = native.map((segment) => {
    const startMs = Math.min(Math.max(segment.from, 0), audioMs);
    return { text: segment.text.trim(), startMs, endMs: Math.min(Math.max(segment.to, startMs), audioMs) };
  });
  const text = native.map((segment) => segment.text).join('').trim();
  return { text: dropRepeats ? withoutDecoderLoops(text) : text, segments };
}

const wordsOf = (sentence: string): string => sentence.toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, '').trim();

/**
 * Drops what a decoder stuck in a loop adds after a sentence: the same sentence again ("Spiders
 * have 8 legs. Spiders have 8 legs. Spiders"), and a cut-off start of it at the end (the token cap
 * ends the loop mid-sentence). A cut audio context makes tiny.en do this on some short utterances;
 * people do not say the same sentence twice in a row to an avatar.
 */
export function withoutDecoderLoops(text: string): string {
  const sentences = text.split(/(?<=[.!?])\s+/);
  const kept: string[] = [];
  for (const [index, sentence] of sentences.entries()) {
    const previous = kept.at(-1);
    if (previous !== undefined && wordsOf(sentence) === wordsOf(previous)) continue;
    const last = index === sentences.length - 1;
    if (last && previous !== undefined && sentences.length > 2 && wordsOf(sentence) !== '' && wordsOf(previous).startsWith(wordsOf(sentence))) continue;
    kept.push(sentence);
  }
  return kept.join(' ');
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
