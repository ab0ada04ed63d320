import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, TtsRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { DEFAULT_TIMELINE_RULES } from './piper-timeline';
import { PiperVoice } from './piper-voice';

/** `spec.options` of the Piper worker (the voice itself is `spec.modelPath`). */
export const PiperOptionsSchema = z.object({
  /** The voice's `.onnx.json` (default: next to the model). */
  configPath: z.string().min(1).optional(),
  /** Folder for the patched copy of a voice without the durations output (default: per-user cache). */
  cacheDir: z.string().min(1).optional(),
  /** Override the config's inference scales. */
  noiseScale: z.number().nonnegative().optional(),
  lengthScale: z.number().positive().optional(),
  noiseW: z.number().nonnegative().optional(),
  /** Whose time a pad between two phonemes is: the phoneme after it (default) or, as upstream Piper, before it. */
  padTo: z.enum(['next', 'previous']).default('next'),
  /** Default speaker of a multi-speaker voice; a run's `voice` (id or name) overrides it. */
  speakerId: z.number().int().nonnegative().optional(),
  /** Speaks a few phrases at load so the first request runs on warm code (eSpeak's wasm2js, onnxruntime). */
  warmUp: z.boolean().default(true),
});
export type PiperOptions = z.infer<typeof PiperOptionsSchema>;

/**
 * The last phrase is one sentence longer than the voice takes in one call (MAX_SENTENCE_CODEPOINTS,
 * piper-voice.ts), so its first piece is as long as any input can be, and it is spoken slower than
 * the usual speeds (WARM_UP_LONGEST_SPEED) so its tensors outgrow a reply's: onnxruntime's memory
 * arena grows to its largest tensors and keeps them, so it reaches its level here, at load, rather
 * than in steps during the first long replies.
 */
export const WARM_UP_TEXTS = [
  'Hello, I am ready.',
  'Peter Piper picked a peck of pickled peppers?',
  'Yesterday afternoon my neighbour and I walked along the river to the old market where we bought fresh bread and cheese and a basket of ripe apples before we went home again together in the golden evening light.',
];

/** The longest warm-up phrase's speed: a slow reading (durations × 1.25) of the longest input. */
export const WARM_UP_LONGEST_SPEED = 0.8;

/**
 * Piper (VITS) voices run by onnxruntime-node (engine "piper"), with the voice's own phoneme
 * durations as the timeline (timing "exact"): see piper-voice.ts and piper-alignment-patch.ts.
 */
export class PiperEngine implements WorkerEngine {
  private voice: PiperVoice | null = null;

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    const parsed = PiperOptionsSchema.safeParse(spec.options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AppError(ErrorCode.ModelInvalid, `The Piper voice options are invalid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(), false);
    }
    const options = parsed.data;
    if (!spec.modelPath) throw new AppError(ErrorCode.ModelMissing, 'No Piper voice model file was given.', false);
    await this.unload();
    progress(0, `loading ${spec.modelName}`);
    const voice = await PiperVoice.load({
      modelPath: spec.modelPath,
      configPath: options.configPath,
      cacheDir: options.cacheDir,
      threads: spec.threads,
      noiseScale: options.noiseScale,
      lengthScale: options.lengthScale,
      noiseW: options.noiseW,
      speakerId: options.speakerId,
      timelineRules: { ...DEFAULT_TIMELINE_RULES, padTo: options.padTo },
    });
    if (options.warmUp) {
      progress(0.8, 'warming up');
      for (const [index, text] of WARM_UP_TEXTS.entries()) {
        await voice.synthesize(text, index === WARM_UP_TEXTS.length - 1 ? { speed: WARM_UP_LONGEST_SPEED } : {});
      }
    }
    this.voice = voice;
    return {
      engine: 'piper',
      model: spec.modelName,
      sampleRateHz: voice.sampleRateHz,
      speakers: voice.config.speakerCount,
      espeakVoice: voice.config.espeakVoice,
      hopLength: voice.config.hopLength,
      durationsOutput: voice.model.durationsOutput,
      alignedModel: voice.model.source,
      timing: 'exact',
      phonemeSet: 'ipa',
    };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }> {
    if (input.kind !== 'tts') throw new AppError(ErrorCode.InvalidMessage, `The Piper worker cannot run "${input.kind}" requests.`, true);
    const voice = this.voice;
    if (!voice) throw new AppError(ErrorCode.ModelMissing, 'The Piper voice is not loaded.', true);
    const speaker = voice.config.speakerCount > 1 ? input.voice : undefined;
    const synthesis = await voice.synthesize(input.text, { speed: input.speed, speaker, signal: context.signal });
    const result: TtsRunResult = { sampleRateHz: synthesis.sampleRateHz, pcm: synthesis.pcm, phonemes: synthesis.phonemes, timing: 'exact' };
    return { data: result, transfer: [synthesis.pcm.buffer] };
  }

  async unload(): Promise<void> {
    const voice = this.voice;
    this.voice = null;
    await voice?.release();
  }
}
