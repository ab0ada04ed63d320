import type { Viseme } from '../phoneme.contract';
import { computeMfcc, DEFAULT_MFCC_OPTIONS } from './audio-features';
import type { PcmClip } from './reference-alignment';
import type { VisemeSpan } from './viseme-spans';

/**
 * Visemes from audio alone (no text, no timeline), in the spirit of uLipSync: every 10 ms frame is
 * scored against a diagonal-Gaussian template per viseme over MFCC context (learned from renderings
 * of the embedded voice), then a Viterbi pass picks the most likely sequence with a cost per change,
 * so the mouth does not chatter. `estimateVisemesFromVolume` is the volume-only "mouth flapping"
 * baseline peers ship, kept for comparison.
 */

export const AUDIO_VISEME_HOP_MS = 10;
/** Frames stacked around each frame: offsets in frames. */
const CONTEXT_OFFSETS = [-3, -1, 0, 1, 3] as const;
/** Frames quieter than the loudest by more than this (natural log of power) are silence. */
export const SILENCE_BELOW_PEAK_LOG = 7;
const CEPSTRA = DEFAULT_MFCC_OPTIONS.coefficientCount - 1;
/** Values per frame before stacking: c1…c12 (normalized over the clip) and relative log energy. */
const FRAME_DIMS = CEPSTRA + 1;
export const AUDIO_VISEME_DIMS = FRAME_DIMS * CONTEXT_OFFSETS.length;

/** One viseme's weight template over the feature dimensions (a row of the softmax classifier). */
export interface VisemeTemplate {
  viseme: Viseme;
  weights: readonly number[];
  bias: number;
}

/** A linear classifier from `audioVisemeFeatures` vectors to visemes. */
export interface VisemeClassifier {
  dims: number;
  templates: readonly VisemeTemplate[];
}

/** Stacked per-frame feature vectors of a clip, one frame every `AUDIO_VISEME_HOP_MS`. */
export interface AudioVisemeFeatures {
  frameCount: number;
  vectors: Float32Array;
  /** Log energy relative to the clip's loudest frame (≤ 0). */
  relativeEnergy: Float32Array;
}

/** Features for template scoring (the same function builds the training data). */
export function audioVisemeFeatures(clip: PcmClip): AudioVisemeFeatures {
  const features = computeMfcc(clip.pcm, clip.sampleRateHz, {
    ...DEFAULT_MFCC_OPTIONS,
    hopMs: AUDIO_VISEME_HOP_MS,
    maxFrequencyHz: Math.min(DEFAULT_MFCC_OPTIONS.maxFrequencyHz, clip.sampleRateHz * 0.475),
  });
  const { frameCount, coefficientCount, mfcc, logEnergy } = features;
  const loudest = logEnergy.reduce((max, value) => Math.max(max, value), Number.NEGATIVE_INFINITY);
  const relativeEnergy = logEnergy.map((value) => Math.max(-2 * SILENCE_BELOW_PEAK_LOG, value - loudest));
  // Cepstral mean and variance normalization over the clip's audible frames.
  const frame = new Float32Array(frameCount * FRAME_DIMS);
  for (let c = 1; c < coefficientCount; c++) {
    let sum = 0;
    let squares = 0;
    let count = 0;
    for (let index = 0; index < frameCount; index++) {
      if (relativeEnergy[index]! < -SILENCE_BELOW_PEAK_LOG) continue;
      const value = mfcc[index * coefficientCount + c]!;
      sum += value;
      squares += value * value;
      count++;
    }
    const mean = count > 0 ? sum / count : 0;
    const deviation = count > 0 ? Math.sqrt(Math.max(1e-9, squares / count - mean * mean)) : 1;
    for (let index = 0; index < frameCount; index++) {
      frame[index * FRAME_DIMS + c - 1] = (mfcc[index * coefficientCount + c]! - mean) / deviation;
    }
  }
  for (let index = 0; index < frameCount; index++) frame[index * FRAME_DIMS + CEPSTRA] = relativeEnergy[index]! / 3;
  const vectors = new Float32Array(frameCount * AUDIO_VISEME_DIMS);
  for (let index = 0; index < frameCount; index++) {
    CONTEXT_OFFSETS.forEach((offset, slot) => {
      const source = Math.min(frameCount - 1, Math.max(0, index + offset));
      vectors.set(frame.subarray(source * FRAME_DIMS, (source + 1) * FRAME_DIMS), index * AUDIO_VISEME_DIMS + slot * FRAME_DIMS);
    });
  }
  return { frameCount, vectors, relativeEnergy };
}

export interface AudioVisemeOptions {
  /** Log-likelihood cost of changing viseme between two frames. */
  switchCost: number;
}

export const DEFAULT_AUDIO_VISEME_OPTIONS: AudioVisemeOptions = { switchCost: 3 };

/** Per-frame runs of equal labels → spans (frame i covers i·hop ± hop/2, clipped to the clip). */
function spansFromFrameLabels(labels: readonly Viseme[], durationMs: number): VisemeSpan[] {
  const spans: VisemeSpan[] = [];
  labels.forEach((viseme, index) => {
    const startMs = Math.max(0, (index - 0.5) * AUDIO_VISEME_HOP_MS);
    const endMs = Math.min(durationMs, (index + 0.5) * AUDIO_VISEME_HOP_MS);
    if (endMs <= startMs) return;
    const last = spans.at(-1);
    if (last && last.viseme === viseme) last.endMs = endMs;
    else spans.push({ viseme, startMs, endMs });
  });
  return spans;
}

/** Log posterior of each viseme for one frame (softmax); silence below the energy floor is certain. */
function frameScores(features: AudioVisemeFeatures, frame: number, classifier: VisemeClassifier, out: Float64Array): void {
  const offset = frame * AUDIO_VISEME_DIMS;
  const silent = features.relativeEnergy[frame]! < -SILENCE_BELOW_PEAK_LOG;
  let max = Number.NEGATIVE_INFINITY;
  classifier.templates.forEach((template, index) => {
    if (silent) {
      out[index] = template.viseme === 'sil' ? 0 : Number.NEGATIVE_INFINITY;
      return;
    }
    let score = template.bias;
    for (let d = 0; d < AUDIO_VISEME_DIMS; d++) score += template.weights[d]! * features.vectors[offset + d]!;
    out[index] = score;
    max = Math.max(max, score);
  });
  if (silent) return;
  let sum = 0;
  for (let index = 0; index < classifier.templates.length; index++) sum += Math.exp(out[index]! - max);
  const logSum = max + Math.log(sum);
  for (let index = 0; index < classifier.templates.length; index++) out[index] = out[index]! - logSum;
}

/** Viseme spans estimated from audio alone (ms from the clip's first sample). */
export function estimateVisemesFromAudio(
  clip: PcmClip,
  classifier: VisemeClassifier,
  options: AudioVisemeOptions = DEFAULT_AUDIO_VISEME_OPTIONS,
): VisemeSpan[] {
  const durationMs = (clip.pcm.length * 1000) / clip.sampleRateHz;
  const templates = classifier.templates;
  if (clip.pcm.length === 0 || templates.length === 0) return [];
  if (classifier.dims !== AUDIO_VISEME_DIMS) throw new Error(`The viseme classifier expects ${classifier.dims} features, not ${AUDIO_VISEME_DIMS}.`);
  const features = audioVisemeFeatures(clip);
  const stateCount = templates.length;
  const { frameCount } = features;
  const back = new Uint8Array(frameCount * stateCount);
  let previous = new Float64Array(stateCount);
  let current = new Float64Array(stateCount);
  const scores = new Float64Array(stateCount);
  frameScores(features, 0, classifier, previous);
  for (let frame = 1; frame < frameCount; frame++) {
    frameScores(features, frame, classifier, scores);
    let bestPrevious = 0;
    for (let state = 1; state < stateCount; state++) if (previous[state]! > previous[bestPrevious]!) bestPrevious = state;
    for (let state = 0; state < stateCount; state++) {
      const stay = previous[state]!;
      const change = previous[bestPrevious]! - options.switchCost;
      const fromChange = change > stay;
      current[state] = (fromChange ? change : stay) + scores[state]!;
      back[frame * stateCount + state] = fromChange ? bestPrevious : state;
    }
    [previous, current] = [current, previous];
  }
  let state = 0;
  for (let candidate = 1; candidate < stateCount; candidate++) if (previous[candidate]! > previous[state]!) state = candidate;
  const labels: Viseme[] = new Array<Viseme>(frameCount);
  for (let frame = frameCount - 1; frame >= 0; frame--) {
    labels[frame] = templates[state]!.viseme;
    state = back[frame * stateCount + state]!;
  }
  return spansFromFrameLabels(labels, durationMs);
}

export interface VolumeVisemeOptions {
  /** Frames louder than the loudest minus this (natural log of power) open the mouth. */
  openBelowPeakLog: number;
}

export const DEFAULT_VOLUME_VISEME_OPTIONS: VolumeVisemeOptions = { openBelowPeakLog: SILENCE_BELOW_PEAK_LOG };

/** Baseline: the mouth opens ("aa") whenever the audio is loud enough, and rests ("sil") otherwise. */
export function estimateVisemesFromVolume(clip: PcmClip, options: VolumeVisemeOptions = DEFAULT_VOLUME_VISEME_OPTIONS): VisemeSpan[] {
  const durationMs = (clip.pcm.length * 1000) / clip.sampleRateHz;
  const hop = (AUDIO_VISEME_HOP_MS * clip.sampleRateHz) / 1000;
  const frameCount = Math.floor(clip.pcm.length / hop) + 1;
  const energies = Array.from({ length: frameCount }, (_, frame) => {
    const start = Math.max(0, Math.round((frame - 1) * hop));
    const end = Math.min(clip.pcm.length, Math.round((frame + 1) * hop));
    let sum = 0;
    for (let i = start; i < end; i++) sum += clip.pcm[i]! * clip.pcm[i]!;
    return Math.log(sum / Math.max(1, end - start) + 1e-10);
  });
  const loudest = energies.reduce((max, value) => Math.max(max, value), Number.NEGATIVE_INFINITY);
  const labels = energies.map((energy): Viseme => (energy >= loudest - options.openBelowPeakLog ? 'aa' : 'sil'));
  return spansFromFrameLabels(labels, durationMs);
}
