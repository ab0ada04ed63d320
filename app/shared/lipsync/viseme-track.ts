import { VISEMES, type PhonemeSpan, type Viseme } from '../phoneme.contract';
import { visemeSpansFromPhonemes, type VisemeSpan } from './viseme-spans';

/**
 * Viseme spans → a track of envelopes that a renderer samples at any time (pure, no per-frame
 * state, so it never lags and does not depend on the frame rate).
 *
 * Coarticulation: at each boundary the outgoing shape falls and the incoming one rises over one
 * shared transition window centred on the boundary (minus `leadMs`), so the mouth starts moving
 * toward a sound before it is heard and the two weights always sum to 1. The window is at most
 * `maxTransitionMs` and at most twice the shorter neighbour: a very short phoneme overlaps both
 * neighbours and is reached only partly (undershoot), as in fast real speech, instead of flickering.
 * Bilabial closure (PP) is held at full weight for at least `minClosureMs`, widened around its
 * centre, and overrides every other shape while it holds, so the lips really close.
 */

export interface VisemeTrackOptions {
  /** Longest crossfade between two neighbouring visemes. */
  maxTransitionMs: number;
  /** Shapes lead their sound by this much (transitions centre this far before each boundary). */
  leadMs: number;
  /** Visemes that close the lips: held at full weight at least this long, dominating the others. */
  minClosureMs: number;
  closureVisemes: readonly Viseme[];
}

export const DEFAULT_VISEME_TRACK_OPTIONS: VisemeTrackOptions = {
  maxTransitionMs: 60,
  leadMs: 0,
  minClosureMs: 50,
  closureVisemes: ['PP'],
};

/** One viseme's weight curve: 0 before `riseStartMs`, smoothstep up to 1 at `peakStartMs`, held, down to 0 at `fallEndMs`. */
export interface VisemeEnvelope {
  viseme: Viseme;
  riseStartMs: number;
  peakStartMs: number;
  peakEndMs: number;
  fallEndMs: number;
  /** Dominates other shapes while it holds (lip closure). */
  closure: boolean;
}

/** A sampled-on-demand viseme animation; envelopes sorted by `riseStartMs`. */
export interface VisemeTrack {
  envelopes: readonly VisemeEnvelope[];
  /** Longest envelope, so sampling only scans envelopes that can be active. */
  maxEnvelopeMs: number;
  closureVisemes: readonly Viseme[];
  startMs: number;
  endMs: number;
}

/** Weight per viseme (all 15, each 0..1, summing to 1; "sil" is the mouth at rest). */
export type VisemeWeights = Record<Viseme, number>;

/** Fresh weights: all zero. */
export function emptyVisemeWeights(): VisemeWeights {
  return Object.fromEntries(VISEMES.map((viseme) => [viseme, 0])) as VisemeWeights;
}

/** 0 at `edge0`, 1 at `edge1`, smooth (C¹) in between. */
export function smoothstep(edge0: number, edge1: number, x: number): number {
  if (edge1 <= edge0) return x < edge0 ? 0 : 1;
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * Spans sorted, overlaps trimmed and gaps filled with "sil", so they tile [first start, last end);
 * speech at either end gets a "sil" neighbour of `restMs` so the mouth opens from and returns to rest.
 */
function tile(spans: readonly VisemeSpan[], restMs: number): VisemeSpan[] {
  const sorted = spans.filter((span) => span.endMs > span.startMs).sort((a, b) => a.startMs - b.startMs);
  const tiled: VisemeSpan[] = [];
  for (const span of sorted) {
    const last = tiled.at(-1);
    const startMs = last ? Math.max(span.startMs, last.endMs) : span.startMs;
    if (last && startMs > last.endMs) tiled.push({ viseme: 'sil', startMs: last.endMs, endMs: startMs });
    if (span.endMs > startMs) tiled.push({ viseme: span.viseme, startMs, endMs: span.endMs });
  }
  const first = tiled[0];
  const last = tiled.at(-1);
  if (first && first.viseme !== 'sil') tiled.unshift({ viseme: 'sil', startMs: first.startMs - restMs, endMs: first.startMs });
  if (last && last.viseme !== 'sil') tiled.push({ viseme: 'sil', startMs: last.endMs, endMs: last.endMs + restMs });
  return tiled;
}

/** Builds the track of viseme spans (any clock; sample it on the same clock). */
export function buildVisemeTrack(spans: readonly VisemeSpan[], options: VisemeTrackOptions = DEFAULT_VISEME_TRACK_OPTIONS): VisemeTrack {
  const tiled = tile(spans, options.maxTransitionMs);
  const durationMs = (index: number): number => {
    const span = tiled[index];
    return span ? span.endMs - span.startMs : Number.POSITIVE_INFINITY;
  };
  // Transition width at the boundary before span i (between i-1 and i).
  const widthBefore = (index: number): number =>
    Math.min(options.maxTransitionMs, 2 * Math.min(durationMs(index - 1), durationMs(index)));
  const envelopes: VisemeEnvelope[] = tiled.map((span, index) => {
    const widthIn = widthBefore(index);
    const widthOut = widthBefore(index + 1);
    const riseCentreMs = span.startMs - options.leadMs;
    const fallCentreMs = span.endMs - options.leadMs;
    const closure = options.closureVisemes.includes(span.viseme);
    let peakStartMs = riseCentreMs + widthIn / 2;
    let peakEndMs = fallCentreMs - widthOut / 2;
    if (closure && peakEndMs - peakStartMs < options.minClosureMs) {
      const centreMs = (riseCentreMs + fallCentreMs) / 2;
      peakStartMs = centreMs - options.minClosureMs / 2;
      peakEndMs = centreMs + options.minClosureMs / 2;
    }
    return { viseme: span.viseme, riseStartMs: peakStartMs - widthIn, peakStartMs, peakEndMs, fallEndMs: peakEndMs + widthOut, closure };
  });
  envelopes.sort((a, b) => a.riseStartMs - b.riseStartMs);
  return {
    envelopes,
    maxEnvelopeMs: envelopes.reduce((longest, envelope) => Math.max(longest, envelope.fallEndMs - envelope.riseStartMs), 0),
    closureVisemes: options.closureVisemes,
    startMs: spans.reduce((earliest, span) => Math.min(earliest, span.startMs), spans[0]?.startMs ?? 0),
    endMs: spans.reduce((latest, span) => Math.max(latest, span.endMs), spans[0]?.endMs ?? 0),
  };
}

/** Builds the track straight from a phoneme timeline (see `visemeSpansFromPhonemes`). */
export function buildVisemeTrackFromPhonemes(
  phonemes: readonly PhonemeSpan[],
  options: VisemeTrackOptions = DEFAULT_VISEME_TRACK_OPTIONS,
): VisemeTrack {
  return buildVisemeTrack(visemeSpansFromPhonemes(phonemes), options);
}

/** The weight of one envelope at `timeMs`. */
export function envelopeWeight(envelope: VisemeEnvelope, timeMs: number): number {
  const rise = smoothstep(envelope.riseStartMs, envelope.peakStartMs, timeMs);
  const fall = 1 - smoothstep(envelope.peakEndMs, envelope.fallEndMs, timeMs);
  return Math.min(rise, fall);
}

/**
 * The mouth at `timeMs`: each viseme's weight is its strongest active envelope; lip closure scales
 * the others down by its own weight; then weights are normalized to sum to 1 (all "sil" outside the
 * track). Pass `out` to reuse one object per frame.
 */
export function sampleVisemeWeights(track: VisemeTrack, timeMs: number, out: VisemeWeights = emptyVisemeWeights()): VisemeWeights {
  for (const viseme of VISEMES) out[viseme] = 0;
  const envelopes = track.envelopes;
  // Last envelope that has started rising by timeMs.
  let low = 0;
  let high = envelopes.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (envelopes[middle]!.riseStartMs <= timeMs) low = middle + 1;
    else high = middle - 1;
  }
  let closureWeight = 0;
  for (let index = high; index >= 0; index--) {
    const envelope = envelopes[index]!;
    if (envelope.riseStartMs < timeMs - track.maxEnvelopeMs) break;
    const weight = envelopeWeight(envelope, timeMs);
    if (weight > out[envelope.viseme]) out[envelope.viseme] = weight;
    if (envelope.closure && weight > closureWeight) closureWeight = weight;
  }
  let total = 0;
  for (const viseme of VISEMES) {
    if (closureWeight > 0 && !track.closureVisemes.includes(viseme)) out[viseme] *= 1 - closureWeight;
    total += out[viseme];
  }
  if (total <= 0) {
    out.sil = 1;
    return out;
  }
  for (const viseme of VISEMES) out[viseme] /= total;
  return out;
}

/** The viseme with the largest weight (the first in `VISEMES` order on ties). */
export function dominantViseme(weights: VisemeWeights): Viseme {
  let best: Viseme = 'sil';
  let bestWeight = -1;
  for (const viseme of VISEMES) {
    if (weights[viseme] > bestWeight) {
      best = viseme;
      bestWeight = weights[viseme];
    }
  }
  return best;
}
