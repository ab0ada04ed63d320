import type { PhonemeSpan, Viseme } from '../../shared/phoneme.contract';
import type { VisemeSpan } from '../../shared/lipsync/viseme-spans';

/** The JSON the lip-sync CLI writes: phoneme and Oculus viseme spans, whole ms from the file's start. */
export interface TimelineJson {
  phonemes: { phoneme: string; startMs: number; endMs: number }[];
  visemes: { viseme: Viseme; startMs: number; endMs: number }[];
}

/** Rounds boundaries to whole ms (shared boundaries stay shared) and drops spans that become empty. */
function roundSpans<Span extends { startMs: number; endMs: number }>(spans: readonly Span[]): Span[] {
  return spans
    .map((span) => ({ ...span, startMs: Math.round(span.startMs), endMs: Math.round(span.endMs) }))
    .filter((span) => span.endMs > span.startMs);
}

export function timelineJson(phonemes: readonly PhonemeSpan[], visemes: readonly VisemeSpan[]): TimelineJson {
  return {
    phonemes: roundSpans(phonemes).map(({ phoneme, startMs, endMs }) => ({ phoneme, startMs, endMs })),
    visemes: roundSpans(visemes).map(({ viseme, startMs, endMs }) => ({ viseme, startMs, endMs })),
  };
}
