import type { PhonemeSpan, Viseme } from '../app/shared/phoneme.contract';
import { SILENCE_PHONEME } from '../app/native-workers/tts/ipa-phoneme-classes';
import { visemeAt, type VisemeSpan } from '../app/shared/lipsync/viseme-spans';

/**
 * How the lip-sync benchmark scores a timing path against the exact timeline.
 *
 * Viseme agreement: the audio is cut into 10 ms frames; over speech — the frames whose centre lies
 * between the first and the last non-silent phoneme of the exact timeline (pauses inside included) —
 * the share of frames whose dominant viseme (the estimate's) equals the viseme of the exact timeline
 * at the frame centre.
 *
 * Onset error: |estimated − exact| start of each non-silent phoneme, phonemes paired in order by a
 * longest-common-subsequence match of their labels (so an inserted or dropped pause does not shift
 * the pairing).
 */

export const AGREEMENT_FRAME_MS = 10;

/** [first, last) ms of speech in an exact timeline, or null if it has none. */
export function speechRangeMs(phonemes: readonly PhonemeSpan[]): { startMs: number; endMs: number } | null {
  const spoken = phonemes.filter((span) => span.phoneme !== SILENCE_PHONEME && span.endMs > span.startMs);
  if (spoken.length === 0) return null;
  return { startMs: spoken[0]!.startMs, endMs: spoken.at(-1)!.endMs };
}

/** Matching and total frame counts over speech: `dominantAt(ms)` is the estimate, `truth` the exact visemes. */
export function frameAgreement(
  truth: readonly VisemeSpan[],
  speech: { startMs: number; endMs: number },
  dominantAt: (timeMs: number) => Viseme,
): { matching: number; total: number } {
  let matching = 0;
  let total = 0;
  for (let centreMs = AGREEMENT_FRAME_MS / 2; centreMs < speech.endMs; centreMs += AGREEMENT_FRAME_MS) {
    if (centreMs < speech.startMs) continue;
    total++;
    if (dominantAt(centreMs) === visemeAt(truth, centreMs)) matching++;
  }
  return { matching, total };
}

/** Pairs of (exact, estimated) non-silent phonemes matched by label LCS. */
export function pairPhonemes(exact: readonly PhonemeSpan[], estimated: readonly PhonemeSpan[]): [PhonemeSpan, PhonemeSpan][] {
  const a = exact.filter((span) => span.phoneme !== SILENCE_PHONEME);
  const b = estimated.filter((span) => span.phoneme !== SILENCE_PHONEME);
  const table = Array.from({ length: a.length + 1 }, () => new Int32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i]![j] = a[i]!.phoneme === b[j]!.phoneme ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const pairs: [PhonemeSpan, PhonemeSpan][] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i]!.phoneme === b[j]!.phoneme) pairs.push([a[i++]!, b[j++]!]);
    else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** Absolute onset errors (ms) of the paired non-silent phonemes. */
export function onsetErrorsMs(exact: readonly PhonemeSpan[], estimated: readonly PhonemeSpan[]): number[] {
  return pairPhonemes(exact, estimated).map(([truth, estimate]) => Math.abs(estimate.startMs - truth.startMs));
}

/** Onsets of the runs of a per-ms dominant-viseme function over [startMs, endMs), with their visemes. */
export function dominantOnsets(dominantAt: (timeMs: number) => Viseme, startMs: number, endMs: number, stepMs = 1): VisemeSpan[] {
  const runs: VisemeSpan[] = [];
  for (let timeMs = startMs; timeMs < endMs; timeMs += stepMs) {
    const viseme = dominantAt(timeMs);
    const last = runs.at(-1);
    if (last && last.viseme === viseme) last.endMs = timeMs + stepMs;
    else runs.push({ viseme, startMs: timeMs, endMs: timeMs + stepMs });
  }
  return runs;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}
