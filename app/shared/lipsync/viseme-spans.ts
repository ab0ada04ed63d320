import type { PhonemeSpan, Viseme } from '../phoneme.contract';
import { phonemeToVisemes } from './phoneme-to-viseme';

/** One mouth shape held from `startMs` to `endMs` (same clock as the phoneme spans it came from). */
export interface VisemeSpan {
  viseme: Viseme;
  startMs: number;
  endMs: number;
}

/** A two-shape phoneme (diphthong "aɪ") holds its first shape for this share of its duration. */
export const DIPHTHONG_ONSET_SHARE = 0.6;

/**
 * Phoneme spans → viseme spans: each phoneme becomes its viseme(s) (diphthongs split at
 * `DIPHTHONG_ONSET_SHARE`), neighbours with the same viseme merge, empty spans are dropped.
 */
export function visemeSpansFromPhonemes(phonemes: readonly PhonemeSpan[]): VisemeSpan[] {
  const spans: VisemeSpan[] = [];
  const push = (viseme: Viseme, startMs: number, endMs: number): void => {
    if (endMs <= startMs) return;
    const last = spans.at(-1);
    if (last && last.viseme === viseme && last.endMs === startMs) last.endMs = endMs;
    else spans.push({ viseme, startMs, endMs });
  };
  for (const phoneme of phonemes) {
    const [first, second] = phonemeToVisemes(phoneme.phoneme);
    if (second === undefined) {
      push(first!, phoneme.startMs, phoneme.endMs);
      continue;
    }
    const splitMs = phoneme.startMs + (phoneme.endMs - phoneme.startMs) * DIPHTHONG_ONSET_SHARE;
    push(first!, phoneme.startMs, splitMs);
    push(second, splitMs, phoneme.endMs);
  }
  return spans;
}

/** The viseme of the span containing `timeMs` ("sil" outside all spans); spans sorted by start. */
export function visemeAt(spans: readonly VisemeSpan[], timeMs: number): Viseme {
  let low = 0;
  let high = spans.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const span = spans[middle]!;
    if (timeMs < span.startMs) high = middle - 1;
    else if (timeMs >= span.endMs) low = middle + 1;
    else return span.viseme;
  }
  return 'sil';
}
