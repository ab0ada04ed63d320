import { readFile } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { alignToReference } from '../../shared/lipsync/reference-alignment';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import type { LoadSpec, RunInput, TtsRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { EspeakSynthesizer } from './espeak-wasm';
import { estimateSpans } from './estimated-timeline';
import { lexiconTokens, parseLexicon, tokensToPhonemes } from './lexicon-phonemizer';
import { refineWithSilence, spansFromOnsets, toMillisecondSpans } from './phoneme-timeline';
import { loadSherpaTts, type SherpaOfflineTts } from './sherpa-tts-binding';
import { parseTokens, validateVitsVoice, type ValidatedVitsVoice } from './vits-voice-config';

/** Labels the voice's audio for `text` with a phoneme timeline (ms spans that tile it). */
type Timeliner = (text: string, pcm: Float32Array, sampleRateHz: number) => { phonemes: PhonemeSpan[]; timing: TtsRunResult['timing'] };

/** Lexicon voices: the lexicon's tokens spread over the audio by typical durations, anchored at pauses. */
async function lexiconTimeliner(voice: ValidatedVitsVoice): Promise<Timeliner> {
  const { tokensPath, lexiconPath } = voice.options;
  const tokens = parseTokens(await readFile(tokensPath, 'utf8'), tokensPath);
  const lexicon = parseLexicon(await readFile(lexiconPath!, 'utf8'), tokens);
  const punctuation = new Set((voice.model.metadata.punctuation ?? '').split(' ').filter(Boolean));
  return (text, pcm, sampleRateHz) => ({
    phonemes: toMillisecondSpans(estimateSpans(tokensToPhonemes(lexiconTokens(text, lexicon, punctuation)), pcm, sampleRateHz), sampleRateHz),
    timing: 'estimated',
  });
}

/**
 * Piper voices speak eSpeak NG's IPA phonemes. The embedded eSpeak renders the same text with exact
 * phoneme events, and the lip-sync module's MFCC + DTW alignment carries that timeline onto the
 * voice's audio.
 */
async function espeakTimeliner(voice: ValidatedVitsVoice): Promise<Timeliner> {
  const espeak = await EspeakSynthesizer.create();
  espeak.setVoice(voice.espeakVoice);
  return (text, pcm, sampleRateHz) => {
    const reference = espeak.synthesize(text);
    const referenceSpans = refineWithSilence(spansFromOnsets(reference.events, reference.pcm.length), reference.pcm, reference.sampleRateHz);
    const aligned = alignToReference(
      { pcm: reference.pcm, sampleRateHz: reference.sampleRateHz, phonemes: toMillisecondSpans(referenceSpans, reference.sampleRateHz) },
      { pcm, sampleRateHz },
    );
    // A phoneme the warp squeezes to nothing is dropped; the others still tile the audio.
    return { phonemes: aligned.phonemes.filter((span) => span.endMs > span.startMs), timing: 'aligned' };
  };
}

/**
 * VITS and Piper voices run by sherpa-onnx (engine "sherpa-vits"). The voice is validated before
 * sherpa loads it (sherpa exits the process on bad configs). sherpa returns audio only, so the
 * timeline is made here: aligned to an eSpeak rendering for Piper voices (timing "aligned"),
 * estimated from typical phoneme durations for lexicon voices (timing "estimated").
 */
export class SherpaVitsEngine implements WorkerEngine {
  private tts: SherpaOfflineTts | null = null;
  private voice: ValidatedVitsVoice | null = null;
  private timeline: Timeliner | null = null;

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    progress(0, 'checking the voice files');
    const voice = await validateVitsVoice(spec.modelPath, spec.options, spec.threads);
    progress(0.2, `loading ${spec.modelName}`);
    const { OfflineTts } = loadSherpaTts();
    this.tts = await OfflineTts.createAsync(voice.sherpaConfig);
    this.timeline = voice.frontend === 'lexicon' ? await lexiconTimeliner(voice) : await espeakTimeliner(voice);
    this.voice = voice;
    return {
      engine: 'sherpa-vits',
      model: spec.modelName,
      sampleRateHz: this.tts.sampleRate,
      speakers: this.tts.numSpeakers,
      frontend: voice.frontend,
      /** Piper voices: IPA as eSpeak writes it; lexicon voices: the lexicon's own token symbols. */
      phonemeSet: voice.frontend === 'espeak' ? 'ipa' : 'lexicon',
      timing: voice.frontend === 'lexicon' ? 'estimated' : 'aligned',
    };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }> {
    if (input.kind !== 'tts') throw new AppError(ErrorCode.InvalidMessage, `The VITS worker cannot run "${input.kind}" requests.`, true);
    const { tts, voice, timeline } = this;
    if (!tts || !voice || !timeline) throw new AppError(ErrorCode.ModelMissing, 'The VITS voice is not loaded.', true);
    const speakerId = input.voice !== undefined && /^\d+$/u.test(input.voice) ? Number(input.voice) : voice.options.speakerId;
    const speed = input.speed ?? 1;
    const audio = await tts.generateAsync({
      text: input.text,
      sid: speakerId,
      speed,
      generationConfig: { silenceScale: 1, speed, sid: speakerId },
      onProgress: () => (context.signal.aborted ? 0 : 1),
    });
    context.signal.throwIfAborted();
    const pcm = new Float32Array(audio.samples);
    const sampleRateHz = audio.sampleRate > 0 ? audio.sampleRate : voice.sampleRateHz;
    const { phonemes, timing } = timeline(input.text, pcm, sampleRateHz);
    const result: TtsRunResult = { sampleRateHz, pcm, phonemes, timing };
    return { data: result, transfer: [pcm.buffer] };
  }

  async unload(): Promise<void> {
    this.tts = null;
    this.voice = null;
    this.timeline = null;
  }
}
