import type { PhonemeSpan } from '../phoneme.contract';
import { computeMfcc, DEFAULT_MFCC_OPTIONS, type AudioFeatures, type MfccOptions } from './audio-features';
import { DEFAULT_DTW_OPTIONS, dtwPath, type DtwOptions } from './dtw';

/**
 * Timing for audio without its own timeline: a reference rendering of the same text with a known
 * phoneme timeline is warped onto the target audio by DTW over MFCC features, and every reference
 * boundary is carried through the warping path. Works across sample rates (features are computed
 * in Hz over the band both clips share) and across voices of similar timbre.
 */

/** Mono audio and where it came from. */
export interface PcmClip {
  pcm: Float32Array;
  sampleRateHz: number;
}

/** Audio whose phoneme timeline is known (ms from its first sample). */
export interface ReferenceClip extends PcmClip {
  phonemes: readonly PhonemeSpan[];
}

export interface AlignmentOptions {
  mfcc: MfccOptions;
  dtw: DtwOptions;
  /** Weight of the normalized log energy next to the (variance-normalized) cepstrum. */
  energyWeight: number;
  /** Frames quieter than the loudest by more than this (natural log units) all look alike. */
  energyFloor: number;
}

export const DEFAULT_ALIGNMENT_OPTIONS: AlignmentOptions = {
  mfcc: { ...DEFAULT_MFCC_OPTIONS, hopMs: 5 },
  dtw: DEFAULT_DTW_OPTIONS,
  energyWeight: 1.5,
  energyFloor: 9,
};

export interface AlignmentResult {
  phonemes: PhonemeSpan[];
  /** Mean feature distance along the warping path (lower: the reference fits better). */
  meanCost: number;
}

/**
 * Per-clip normalized feature vectors: c1… with mean and variance normalized over the clip (removes
 * channel and voice offsets), plus log energy relative to the clip's loudest frame.
 */
export function alignmentVectors(features: AudioFeatures, options: AlignmentOptions): { vectors: Float32Array; dims: number } {
  const { frameCount, coefficientCount, mfcc, logEnergy } = features;
  const cepstra = coefficientCount - 1;
  const dims = cepstra + 1;
  const vectors = new Float32Array(frameCount * dims);
  for (let c = 1; c < coefficientCount; c++) {
    let sum = 0;
    let squares = 0;
    for (let frame = 0; frame < frameCount; frame++) {
      const value = mfcc[frame * coefficientCount + c]!;
      sum += value;
      squares += value * value;
    }
    const mean = sum / frameCount;
    const deviation = Math.sqrt(Math.max(1e-9, squares / frameCount - mean * mean));
    for (let frame = 0; frame < frameCount; frame++) {
      vectors[frame * dims + c - 1] = (mfcc[frame * coefficientCount + c]! - mean) / deviation;
    }
  }
  const loudest = logEnergy.reduce((max, value) => Math.max(max, value), Number.NEGATIVE_INFINITY);
  for (let frame = 0; frame < frameCount; frame++) {
    const relative = Math.max(-options.energyFloor, logEnergy[frame]! - loudest) / options.energyFloor;
    vectors[frame * dims + cepstra] = (relative + 0.5) * 2 * options.energyWeight;
  }
  return { vectors, dims };
}

/** For each frame of `a`, the mean frame of `b` it is warped to. */
function meanWarpedFrame(pathA: Int32Array, pathB: Int32Array, aCount: number): Float64Array {
  const sums = new Float64Array(aCount);
  const counts = new Float64Array(aCount);
  for (let k = 0; k < pathA.length; k++) {
    sums[pathA[k]!]! += pathB[k]!;
    counts[pathA[k]!]! += 1;
  }
  return sums.map((sum, frame) => sum / Math.max(1, counts[frame]!));
}

/** Carries a time of the reference (ms) through the warp to the target (ms). */
function warpTimeMs(timeMs: number, warped: Float64Array, hopMs: number): number {
  const position = Math.min(warped.length - 1, Math.max(0, timeMs / hopMs));
  const lower = Math.floor(position);
  const upper = Math.min(warped.length - 1, lower + 1);
  const frame = warped[lower]! + (warped[upper]! - warped[lower]!) * (position - lower);
  return frame * hopMs;
}

/** The reference's phoneme timeline carried onto `target` (spans tile the target's duration). */
export function alignToReference(
  reference: ReferenceClip,
  target: PcmClip,
  options: AlignmentOptions = DEFAULT_ALIGNMENT_OPTIONS,
): AlignmentResult {
  const targetDurationMs = (target.pcm.length * 1000) / target.sampleRateHz;
  if (reference.phonemes.length === 0 || target.pcm.length === 0) return { phonemes: [], meanCost: 0 };
  // Both clips use the band below the lower Nyquist frequency, so different sample rates compare.
  const maxFrequencyHz = Math.min(options.mfcc.maxFrequencyHz, reference.sampleRateHz * 0.475, target.sampleRateHz * 0.475);
  const mfccOptions = { ...options.mfcc, maxFrequencyHz };
  const referenceFeatures = alignmentVectors(computeMfcc(reference.pcm, reference.sampleRateHz, mfccOptions), options);
  const targetFeatures = alignmentVectors(computeMfcc(target.pcm, target.sampleRateHz, mfccOptions), options);
  const referenceFrames = referenceFeatures.vectors.length / referenceFeatures.dims;
  const targetFrames = targetFeatures.vectors.length / targetFeatures.dims;
  const path = dtwPath(referenceFeatures.vectors, referenceFrames, targetFeatures.vectors, targetFrames, referenceFeatures.dims, options.dtw);
  const warped = meanWarpedFrame(path.a, path.b, referenceFrames);

  const phonemes: PhonemeSpan[] = [];
  let previousEndMs = 0;
  reference.phonemes.forEach((span, index) => {
    const isLast = index === reference.phonemes.length - 1;
    const startMs = previousEndMs;
    const endMs = isLast ? targetDurationMs : Math.min(targetDurationMs, Math.max(startMs, warpTimeMs(span.endMs, warped, options.mfcc.hopMs)));
    phonemes.push({ phoneme: span.phoneme, startMs, endMs });
    previousEndMs = endMs;
  });
  return { phonemes, meanCost: path.meanCost };
}
