import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, TtsRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { EspeakSynthesizer } from './espeak-wasm';
import { refineWithSilence, spansFromOnsets, toMillisecondSpans } from './phoneme-timeline';

/** `spec.options` of the embedded eSpeak NG voice. */
export const EspeakOptionsSchema = z.object({
  /** eSpeak voice name, e.g. "en-us"; a run's `voice` overrides it. */
  voice: z.string().min(1).default('en-us'),
  /** Synthesizes a few phrases at load so the first real request runs on optimized code. */
  warmUp: z.boolean().default(true),
});

/**
 * The build is wasm2js (asm.js-style JavaScript): V8 optimizes its hot paths only after several
 * syntheses (measured: the first pass over these phrases costs ~1 s of CPU, the sixth ~40 ms), so
 * the first requests would be 5–20× slower. The warm pool pays that at load instead: passes repeat
 * until one is fast, at most WARM_UP_MAX_PASSES times.
 */
const WARM_UP_TEXTS = [
  'Hello, I am ready.',
  'Peter Piper picked a peck of pickled peppers!',
  'The quick brown fox jumps over the lazy dog?',
  'Sure, let me think about that for a moment; it is twenty past nine.',
];
const WARM_UP_MAX_PASSES = 8;
const WARM_UP_FAST_PASS_MS = 60;

/**
 * The embedded default voice: eSpeak NG compiled by Emscripten, no download. Its phoneme timeline comes
 * from espeak's own phoneme events (exact sample positions), labelled in IPA without stress marks,
 * with "sil" for silence.
 */
export class EspeakEngine implements WorkerEngine {
  private synthesizer: EspeakSynthesizer | null = null;
  private defaultVoice = 'en-us';

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    const options = EspeakOptionsSchema.safeParse(spec.options);
    if (!options.success) {
      throw new AppError(ErrorCode.ModelInvalid, `eSpeak voice options are invalid: ${options.error.issues[0]?.message ?? ''}`, false);
    }
    progress(0, 'loading eSpeak NG');
    const synthesizer = await EspeakSynthesizer.create();
    synthesizer.setVoice(options.data.voice);
    if (options.data.warmUp) {
      for (let pass = 0; pass < WARM_UP_MAX_PASSES; pass++) {
        const startedMs = performance.now();
        for (const text of WARM_UP_TEXTS) synthesizer.synthesize(text);
        progress((pass + 1) / (WARM_UP_MAX_PASSES + 1), 'warming up eSpeak NG');
        if (performance.now() - startedMs <= WARM_UP_FAST_PASS_MS) break;
      }
    }
    this.synthesizer = synthesizer;
    this.defaultVoice = options.data.voice;
    return { engine: 'espeak', voice: options.data.voice, sampleRateHz: synthesizer.sampleRateHz, timing: 'exact', phonemeSet: 'ipa' };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }> {
    if (input.kind !== 'tts') throw new AppError(ErrorCode.InvalidMessage, `The eSpeak worker cannot run "${input.kind}" requests.`, true);
    const synthesizer = this.synthesizer;
    if (!synthesizer) throw new AppError(ErrorCode.ModelMissing, 'The eSpeak voice is not loaded.', true);
    context.signal.throwIfAborted();
    synthesizer.setVoice(input.voice ?? this.defaultVoice);
    const { sampleRateHz, pcm, events } = synthesizer.synthesize(input.text, input.speed ?? 1);
    const spans = refineWithSilence(spansFromOnsets(events, pcm.length), pcm, sampleRateHz);
    const result: TtsRunResult = { sampleRateHz, pcm, phonemes: toMillisecondSpans(spans, sampleRateHz), timing: 'exact' };
    return { data: result, transfer: [pcm.buffer] };
  }

  async unload(): Promise<void> {
    this.synthesizer = null;
  }
}
