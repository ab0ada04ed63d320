import { readFile } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, TtsRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { EspeakSynthesizer } from './espeak-wasm';
import { estimateSpans } from './estimated-timeline';
import { SILENCE_PHONEME, normalizePhoneme } from './ipa-phoneme-classes';
import { lexiconTokens, parseLexicon, tokensToPhonemes } from './lexicon-phonemizer';
import { toMillisecondSpans } from './phoneme-timeline';
import { loadSherpaTts, type SherpaOfflineTts } from './sherpa-tts-binding';
import { parseTokens, validateVitsVoice, type ValidatedVitsVoice } from './vits-voice-config';

/** Turns text into the phoneme labels of the tokens the voice will speak. */
type Phonemizer = (text: string) => string[];

async function lexiconPhonemizer(voice: ValidatedVitsVoice): Promise<Phonemizer> {
  const { tokensPath, lexiconPath } = voice.options;
  const tokens = parseTokens(await readFile(tokensPath, 'utf8'), tokensPath);
  const lexicon = parseLexicon(await readFile(lexiconPath!, 'utf8'), tokens);
  const punctuation = new Set((voice.model.metadata.punctuation ?? '').split(' ').filter(Boolean));
  return (text) => tokensToPhonemes(lexiconTokens(text, lexicon, punctuation));
}

/** Piper voices speak eSpeak NG's IPA phonemes; the embedded eSpeak gives the same sequence. */
async function espeakPhonemizer(voice: ValidatedVitsVoice): Promise<Phonemizer> {
  const espeak = await EspeakSynthesizer.create();
  espeak.setVoice(voice.espeakVoice);
  return (text) =>
    espeak
      .synthesize(text)
      .events.map((event) => normalizePhoneme(event.phoneme))
      .filter((phoneme) => phoneme !== SILENCE_PHONEME);
}

/**
 * VITS and Piper voices run by sherpa-onnx (engine "sherpa-vits"). The voice is validated before
 * sherpa loads it (sherpa exits the process on bad configs). sherpa returns audio only, so the
 * phoneme timeline is estimated: the voice's own phoneme sequence spread over the audible audio by
 * typical phoneme durations (timing "estimated").
 */
export class SherpaVitsEngine implements WorkerEngine {
  private tts: SherpaOfflineTts | null = null;
  private voice: ValidatedVitsVoice | null = null;
  private phonemize: Phonemizer = () => [];

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    progress(0, 'checking the voice files');
    const voice = await validateVitsVoice(spec.modelPath, spec.options, spec.threads);
    progress(0.2, `loading ${spec.modelName}`);
    const { OfflineTts } = loadSherpaTts();
    this.tts = await OfflineTts.createAsync(voice.sherpaConfig);
    this.phonemize = voice.frontend === 'lexicon' ? await lexiconPhonemizer(voice) : await espeakPhonemizer(voice);
    this.voice = voice;
    return {
      engine: 'sherpa-vits',
      model: spec.modelName,
      sampleRateHz: this.tts.sampleRate,
      speakers: this.tts.numSpeakers,
      frontend: voice.frontend,
      timing: 'estimated',
    };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }> {
    if (input.kind !== 'tts') throw new AppError(ErrorCode.InvalidMessage, `The VITS worker cannot run "${input.kind}" requests.`, true);
    const { tts, voice } = this;
    if (!tts || !voice) throw new AppError(ErrorCode.ModelMissing, 'The VITS voice is not loaded.', true);
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
    const spans = estimateSpans(this.phonemize(input.text), pcm, sampleRateHz);
    const result: TtsRunResult = { sampleRateHz, pcm, phonemes: toMillisecondSpans(spans, sampleRateHz), timing: 'estimated' };
    return { data: result, transfer: [pcm.buffer] };
  }

  async unload(): Promise<void> {
    this.tts = null;
    this.voice = null;
  }
}
