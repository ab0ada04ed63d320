import { z } from 'zod';
import { ModelKind } from './catalog.contract';
import { ErrorCodeSchema } from './errors.contract';
import { PhonemeSpanSchema } from './phoneme.contract';

/**
 * Protocol between the engine's pool and one model worker (a worker_thread inside a runtime host
 * process). Engine → worker: load / run / cancel / release / unload / ping.
 * Worker → engine: ready / progress / chunk / result / error / pong.
 * PCM travels as Float32Array and is transferred (not copied) between threads.
 */

/**
 * What a pool worker runs: VAD (its model ships with the app, outside the catalog) or a catalog model
 * kind: STT, LLM, TTS and the end-of-turn model (`turn`).
 */
export const WorkerKind = { Vad: 'vad', Stt: ModelKind.Stt, Llm: ModelKind.Llm, Tts: ModelKind.Tts, Turn: ModelKind.Turn } as const;
export type WorkerKind = (typeof WorkerKind)[keyof typeof WorkerKind];
export const WorkerKindSchema = z.enum(WorkerKind);

const pcm = z.instanceof(Float32Array);

/** What a worker loads: which engine implementation, which model file, and its options. */
export const LoadSpecSchema = z.object({
  kind: WorkerKindSchema,
  /** Engine implementation inside the worker, e.g. "scripted", "llama", "whisper", "piper". */
  engine: z.string().min(1),
  /** Human-readable model name (shown in the UI and in bench JSON). */
  modelName: z.string(),
  modelPath: z.string().optional(),
  /** CPU threads this runtime may use (from the resource plan). */
  threads: z.number().int().positive(),
  gpuLayers: z.number().int().nonnegative().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});
export type LoadSpec = z.infer<typeof LoadSpecSchema>;

// ---- run inputs and outputs, per kind ------------------------------------------------------

/** Live VAD sensitivity (the settings); absent fields keep the load options. Applied from the next utterance. */
export const VadTuneSchema = z.object({
  /** Speech probability above which a frame is speech. */
  threshold: z.number().gt(0).lt(1).optional(),
  /** End-of-utterance silence. */
  minSilenceMs: z.number().nonnegative().optional(),
});
/** The VAD's two events: an utterance begins or ends. */
export const VadEventKind = { SpeechStart: 'speech-start', SpeechEnd: 'speech-end' } as const;
export type VadEventKind = (typeof VadEventKind)[keyof typeof VadEventKind];
export const VadEventKindSchema = z.enum(VadEventKind);

/** A VAD stream's verdict on one pushed frame. */
export const VadDetectionSchema = z.object({
  event: VadEventKindSchema,
  /** Position in the stream's audio, ms since its first sample. */
  atMs: z.number(),
});
export const VadStreamOutputSchema = z.object({ events: z.array(VadDetectionSchema), probability: z.number() });

export const SttRunInputSchema = z.object({
  kind: z.literal('stt'),
  sampleRateHz: z.literal(16000),
  pcm,
  /** False for a partial (interim) transcription while the user is still speaking. */
  final: z.boolean(),
  language: z.string().optional(),
  /**
   * Text the speech probably resembles, given to whisper as its initial prompt (it primes spellings:
   * "Mm-hmm." rather than "and anthem" for a hum over the avatar). Never the previous utterance.
   */
  prompt: z.string().max(400).optional(),
});
export const SttSegmentSchema = z.object({ text: z.string(), startMs: z.number(), endMs: z.number() });
export const SttRunResultSchema = z.object({ text: z.string(), segments: z.array(SttSegmentSchema) });

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const LlmRunInputSchema = z.object({
  kind: z.literal('llm'),
  /** The session whose KV cache this worker keeps between turns. */
  sessionId: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).optional(),
  seed: z.number().int().optional(),
});
/** Streamed piece of generated text. */
export const LlmChunkSchema = z.object({ text: z.string() });
export const LlmRunResultSchema = z.object({
  text: z.string(),
  tokenCount: z.number().int().nonnegative(),
  finishReason: z.enum(['stop', 'length', 'abort']),
  /** Engines with a KV cache account for the prompt: tokens in the window, evaluated this turn, served from the cache. */
  promptTokenCount: z.number().int().nonnegative().optional(),
  evaluatedPromptTokenCount: z.number().int().nonnegative().optional(),
  reusedPromptTokenCount: z.number().int().nonnegative().optional(),
});

export const TtsRunInputSchema = z.object({
  kind: z.literal('tts'),
  text: z.string().min(1),
  voice: z.string().optional(),
  speed: z.number().positive().optional(),
});
export const TtsRunResultSchema = z.object({
  sampleRateHz: z.number().int().positive(),
  pcm,
  phonemes: z.array(PhonemeSpanSchema),
  /** Where the timeline came from: the synthesizer's own durations, alignment, or an estimate. */
  timing: z.enum(['exact', 'aligned', 'estimated']),
});

/** End of turn: is the user done? The turn's audio so far (the model keeps the last 8 s). */
export const TurnRunInputSchema = z.object({
  kind: z.literal('turn'),
  sampleRateHz: z.literal(16000),
  pcm,
});
export const TurnRunResultSchema = z.object({
  /** Probability in [0, 1] that the user finished their turn. */
  completeProbability: z.number().min(0).max(1),
  inferenceMs: z.number().nonnegative(),
});

export const RunInputSchema = z.discriminatedUnion('kind', [SttRunInputSchema, LlmRunInputSchema, TtsRunInputSchema, TurnRunInputSchema]);
export type RunInput = z.infer<typeof RunInputSchema>;

/**
 * What a request/response worker kind takes, streams and returns. `WorkerHandle.run<K>()` validates
 * results and chunks against these, so stages get typed values, never `unknown`. VAD is not here: it
 * is a stream a session opens once (`stream.open / push / tune / close`), not a request per frame.
 */
export const RUN_CONTRACTS = {
  stt: { input: SttRunInputSchema, chunk: z.never(), result: SttRunResultSchema },
  llm: { input: LlmRunInputSchema, chunk: LlmChunkSchema, result: LlmRunResultSchema },
  tts: { input: TtsRunInputSchema, chunk: z.never(), result: TtsRunResultSchema },
  turn: { input: TurnRunInputSchema, chunk: z.never(), result: TurnRunResultSchema },
} as const;
export type RunKind = keyof typeof RUN_CONTRACTS;
export type RunInputOf<K extends RunKind> = z.infer<(typeof RUN_CONTRACTS)[K]['input']>;
export type RunChunkOf<K extends RunKind> = z.infer<(typeof RUN_CONTRACTS)[K]['chunk']>;
export type RunResultOf<K extends RunKind> = z.infer<(typeof RUN_CONTRACTS)[K]['result']>;

export type VadTune = z.infer<typeof VadTuneSchema>;
export type VadDetection = z.infer<typeof VadDetectionSchema>;
export type VadStreamOutput = z.infer<typeof VadStreamOutputSchema>;
export type SttRunInput = z.infer<typeof SttRunInputSchema>;
export type SttRunResult = z.infer<typeof SttRunResultSchema>;
export type LlmRunInput = z.infer<typeof LlmRunInputSchema>;
export type LlmChunk = z.infer<typeof LlmChunkSchema>;
export type LlmRunResult = z.infer<typeof LlmRunResultSchema>;
export type TtsRunInput = z.infer<typeof TtsRunInputSchema>;
export type TtsRunResult = z.infer<typeof TtsRunResultSchema>;
export type TurnRunInput = z.infer<typeof TurnRunInputSchema>;
export type TurnRunResult = z.infer<typeof TurnRunResultSchema>;

// ---- messages ------------------------------------------------------------------------------

const streamId = z.string().min(1);

export const ToWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('load'), spec: LoadSpecSchema }),
  z.object({ type: z.literal('run'), requestId: z.string().min(1), input: RunInputSchema }),
  z.object({ type: z.literal('cancel'), requestId: z.string().min(1) }),
  /** Opens a VAD stream (one per session's microphone) with its sensitivity. */
  z.object({ type: z.literal('stream.open'), streamId, tune: VadTuneSchema }),
  /** 16 kHz samples in capture order; answered by one `stream.output` per push, in order. */
  z.object({ type: z.literal('stream.push'), streamId, pcm }),
  /** New sensitivity, applied between utterances. */
  z.object({ type: z.literal('stream.tune'), streamId, tune: VadTuneSchema }),
  z.object({ type: z.literal('stream.close'), streamId }),
  /** Forget per-session state (an LLM chat context, a VAD stream). */
  z.object({ type: z.literal('release'), sessionId: z.string().min(1) }),
  z.object({ type: z.literal('unload') }),
  z.object({ type: z.literal('ping'), nonce: z.number() }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const FromWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    loadMs: z.number(),
    info: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('progress'),
    requestId: z.string().optional(),
    fraction: z.number().min(0).max(1),
    message: z.string(),
  }),
  /** Validated against RUN_CONTRACTS by the run it belongs to. */
  z.object({ type: z.literal('chunk'), requestId: z.string(), data: z.unknown() }),
  z.object({ type: z.literal('result'), requestId: z.string(), data: z.unknown() }),
  z.object({ type: z.literal('stream.output'), streamId, output: VadStreamOutputSchema }),
  z.object({
    type: z.literal('error'),
    requestId: z.string().optional(),
    streamId: z.string().optional(),
    code: ErrorCodeSchema,
    message: z.string(),
    recoverable: z.boolean(),
  }),
  z.object({ type: z.literal('unloaded') }),
  z.object({
    type: z.literal('pong'),
    nonce: z.number(),
    heapUsedBytes: z.number(),
    externalBytes: z.number(),
  }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;
