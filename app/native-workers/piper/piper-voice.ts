import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { concatPcm } from '../../shared/audio/pcm';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import { toMillisecondSpans, type SampleSpan } from '../tts/phoneme-timeline';
import { ensureAlignedModel, type AlignedModel } from './piper-aligned-model';
import { PiperPhonemizer, tokensToPiperString, type PiperSentence, type PiperToken } from './piper-phonemizer';
import { DEFAULT_TIMELINE_RULES, sentenceIds, sentenceSpans, type TimelineRules } from './piper-timeline';
import { readPiperConfig, type PiperVoiceConfig } from './piper-voice-config';

/**
 * A Piper (VITS) voice run by onnxruntime-node, in whatever thread creates it, returning audio with
 * the exact phoneme timeline the voice itself used: the graph is patched to output its per-id
 * durations (piper-alignment-patch.ts), and every ONNX call (one per sentence) returns both.
 */

/**
 * The longest input (phoneme codepoints, each one id before padding) the voice gets in one call; a
 * longer sentence is spoken in pieces cut at word boundaries. onnxruntime's arena grows to the
 * largest tensors it has seen and keeps them, and a sentence's tensors grow with its length; with
 * no limit a long unpunctuated reply extended the arena in steps for the first quarter hour of a
 * soak (402 → 443 MB). The warm-up speaks one piece of this length (piper-engine.ts), so the arena
 * is at its level from load. A piece this long is about 30 ordinary words.
 */
export const MAX_SENTENCE_CODEPOINTS = 200;

/** Codepoints (model ids before padding) of a run of tokens. */
function codepointCount(tokens: readonly PiperToken[]): number {
  return tokens.reduce((sum, token) => sum + token.codepoints.length, 0);
}

/**
 * A sentence cut into pieces of at most `maxCodepoints`, each ending before a word boundary (a space
 * token, dropped at the cut); a single word longer than that is cut where it reaches the limit.
 */
export function splitLongSentence(tokens: PiperSentence, maxCodepoints = MAX_SENTENCE_CODEPOINTS): PiperSentence[] {
  if (codepointCount(tokens) <= maxCodepoints) return [tokens];
  const pieces: PiperSentence[] = [];
  let piece: PiperToken[] = [];
  let size = 0;
  let lastSpace = -1;
  for (const token of tokens) {
    if (size + token.codepoints.length > maxCodepoints && piece.length > 0) {
      if (lastSpace > 0) {
        pieces.push(piece.slice(0, lastSpace));
        piece = piece.slice(lastSpace + 1);
      } else {
        pieces.push(piece);
        piece = [];
      }
      size = codepointCount(piece);
      lastSpace = piece.findLastIndex((candidate) => candidate.kind === 'space');
    }
    if (token.kind === 'space') {
      if (piece.length === 0) continue;
      lastSpace = piece.length;
    }
    piece.push(token);
    size += token.codepoints.length;
  }
  if (piece.some((token) => token.kind !== 'space')) pieces.push(piece);
  return pieces.filter((candidate) => candidate.some((token) => token.kind === 'phoneme'));
}

export interface PiperVoiceOptions {
  /** The voice's `.onnx`. */
  modelPath: string;
  /** Its `.onnx.json` (default: `<modelPath>.json`). */
  configPath?: string;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /** Where a patched copy of the model is kept when the voice lacks the durations output. */
  cacheDir?: string;
  /** Override the config's inference scales. */
  noiseScale?: number;
  lengthScale?: number;
  noiseW?: number;
  /** Default speaker of a multi-speaker voice. */
  speakerId?: number;
  timelineRules?: TimelineRules;
}

export interface SynthesizeOptions {
  /** Speaking rate factor (> 1 is faster): divides length_scale. */
  speed?: number;
  /** Speaker id or name (multi-speaker voices). */
  speaker?: string | number;
  /** Checked between sentences. */
  signal?: AbortSignal;
}

/** One ONNX call: a sentence's ids, the frames the voice gave each, and its place in the audio. */
export interface PiperSentenceSynthesis {
  /** Piper's phoneme string (NFD codepoints). */
  phonemes: string;
  ids: number[];
  frames: number[];
  startSample: number;
  endSample: number;
}

export interface PiperSynthesis {
  sampleRateHz: number;
  pcm: Float32Array<ArrayBuffer>;
  /** Spans in samples: contiguous, from 0 to pcm.length. */
  spans: SampleSpan[];
  /** The same spans in ms, as the TTS contract carries them. */
  phonemes: PhonemeSpan[];
  sentences: PiperSentenceSynthesis[];
}

function int64(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), [1, values.length]);
}

export class PiperVoice {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly phonemizer: PiperPhonemizer,
    readonly config: PiperVoiceConfig,
    readonly model: AlignedModel,
    private readonly options: PiperVoiceOptions,
  ) {}

  /** Reads the config, ensures the durations output (patching if needed), opens the session. */
  static async load(options: PiperVoiceOptions): Promise<PiperVoice> {
    const configPath = options.configPath ?? `${options.modelPath}.json`;
    if (!existsSync(options.modelPath)) throw new AppError(ErrorCode.ModelMissing, `The Piper voice model is missing: ${options.modelPath}`, false);
    const config = await readPiperConfig(configPath);
    const model = await ensureAlignedModel(options.modelPath, options.cacheDir);
    if (config.speakerCount > 1 && !model.hasSpeakerInput) {
      throw new AppError(ErrorCode.ModelInvalid, `The Piper voice ${options.modelPath} has no "sid" input but ${configPath} lists ${config.speakerCount} speakers.`, false);
    }
    // onnxruntime builds the session off the JavaScript thread: start eSpeak meanwhile.
    const opening = ort.InferenceSession.create(model.path, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // No memory plan per input shape: every phrase has a length of its own, and with a plan for each
      // the arena kept extending (a 5-minute probe of 3–30-word phrases: 521 → 606 MB with plans,
      // 519 → 471 MB without, the same CPU per phrase). Without the arena itself RSS stayed at 300 MB
      // but each phrase took nearly twice the CPU (fresh pages every time), so the arena stays.
      enableMemPattern: false,
    });
    const [session, phonemizer] = await Promise.allSettled([opening, PiperPhonemizer.create()]);
    if (session.status === 'rejected') {
      if (phonemizer.status === 'rejected') throw phonemizer.reason;
      const why = session.reason instanceof Error ? session.reason.message : String(session.reason);
      throw new AppError(ErrorCode.ModelInvalid, `onnxruntime cannot load the Piper voice ${options.modelPath}: ${why}`, false);
    }
    if (phonemizer.status === 'rejected') {
      await session.value.release();
      throw phonemizer.reason;
    }
    phonemizer.value.setVoice(config.espeakVoice);
    return new PiperVoice(session.value, phonemizer.value, config, model, options);
  }

  get sampleRateHz(): number {
    return this.config.sampleRateHz;
  }

  /** Piper's sentences of phoneme tokens for `text` (no synthesis). */
  phonemize(text: string): PiperSentence[] {
    return this.phonemizer.phonemize(text);
  }

  private speakerId(speaker: string | number | undefined): number {
    const chosen = speaker ?? this.options.speakerId ?? 0;
    if (typeof chosen === 'number') return chosen;
    if (/^\d+$/u.test(chosen)) return Number(chosen);
    const id = this.config.speakerIds[chosen];
    if (id === undefined) throw new AppError(ErrorCode.InvalidMessage, `The Piper voice has no speaker "${chosen}".`, true);
    return id;
  }

  /** One ONNX call: audio and frames per id for one sentence. */
  private async runSentence(ids: number[], speed: number, speakerId: number): Promise<{ audio: Float32Array; frames: number[] }> {
    const lengthScale = (this.options.lengthScale ?? this.config.lengthScale) / speed;
    const feeds: Record<string, ort.Tensor> = {
      input: int64(ids),
      input_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor(
        'float32',
        Float32Array.of(this.options.noiseScale ?? this.config.noiseScale, lengthScale, this.options.noiseW ?? this.config.noiseW),
        [3],
      ),
    };
    if (this.model.hasSpeakerInput) feeds.sid = new ort.Tensor('int64', BigInt64Array.of(BigInt(speakerId)), [1]);
    const outputs = await this.session.run(feeds, ['output', this.model.durationsOutput]);
    const audio = (outputs.output!.data as Float32Array).slice();
    const frames = Array.from(outputs[this.model.durationsOutput]!.data as Float32Array);
    for (const tensor of Object.values(outputs)) tensor.dispose();
    return { audio, frames };
  }

  /**
   * Speaks `text`: one ONNX call per sentence, the sentences' audio concatenated, and the phoneme
   * timeline from the same calls' durations. Throws model_invalid when the durations do not add
   * up to the audio sample for sample (a voice whose hop_length differs from its config).
   */
  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<PiperSynthesis> {
    const speed = options.speed ?? 1;
    const speakerId = this.speakerId(options.speaker);
    const hop = this.config.hopLength;
    const parts: Float32Array[] = [];
    const spans: SampleSpan[] = [];
    const sentences: PiperSentenceSynthesis[] = [];
    let offset = 0;
    for (const tokens of this.phonemizer.phonemize(text).flatMap((sentence) => splitLongSentence(sentence))) {
      options.signal?.throwIfAborted();
      const sequence = sentenceIds(tokens, this.config.phonemeIdMap);
      const { audio, frames } = await this.runSentence(sequence.ids, speed, speakerId);
      const durationSamples = frames.reduce((sum, count) => sum + count, 0) * hop;
      if (durationSamples !== audio.length) {
        throw new AppError(
          ErrorCode.ModelInvalid,
          `The Piper voice ${this.options.modelPath} returned ${audio.length} samples but durations of ${durationSamples} (hop_length ${hop}); its config's hop_length does not match the model.`,
          false,
        );
      }
      spans.push(...sentenceSpans(tokens, sequence, frames, hop, offset, this.options.timelineRules ?? DEFAULT_TIMELINE_RULES));
      sentences.push({ phonemes: tokensToPiperString(tokens), ids: sequence.ids, frames, startSample: offset, endSample: offset + audio.length });
      parts.push(audio);
      offset += audio.length;
    }
    options.signal?.throwIfAborted();
    const pcm = concatPcm(parts);
    // The voice's raw output (Piper would peak-normalize each sentence); only overshoots are clipped.
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.max(-1, Math.min(1, pcm[i]!));
    const last = spans.at(-1);
    if ((last?.endSample ?? 0) !== pcm.length || spans.some((span, index) => span.startSample !== (spans[index - 1]?.endSample ?? 0))) {
      throw new AppError(ErrorCode.Internal, 'The Piper phoneme timeline does not tile the audio.', true);
    }
    return { sampleRateHz: this.sampleRateHz, pcm, spans, phonemes: toMillisecondSpans(spans, this.sampleRateHz), sentences };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
