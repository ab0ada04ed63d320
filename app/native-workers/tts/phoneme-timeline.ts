import type { PhonemeSpan } from '../../shared/phoneme.contract';
import { SILENCE_PHONEME, isStop, normalizePhoneme } from './ipa-phoneme-classes';

/**
 * Turns phoneme onsets (sample positions) into spans that tile the chunk's audio exactly:
 * contiguous, no gaps, the first starting at 0 and the last ending at the last sample. Silence that
 * the synthesizer does not report as a phoneme (pauses, the closure of a stop) is read from the audio.
 */

/** A phoneme that starts at `sample` and lasts until the next onset. */
export interface PhonemeOnset {
  phoneme: string;
  sample: number;
}

/** A phoneme span in samples, [startSample, endSample). */
export interface SampleSpan {
  phoneme: string;
  startSample: number;
  endSample: number;
}

export interface TimelineOptions {
  /** Samples whose magnitude is at most this count as silence. */
  silenceAmplitude: number;
  /** Silence inside a phoneme's span longer than this becomes its own "sil" span. */
  minPauseMs: number;
  /** At most this much silence before a stop is its closure (lips or tongue already closed). */
  maxClosureMs: number;
}

export const DEFAULT_TIMELINE_OPTIONS: TimelineOptions = { silenceAmplitude: 0.002, minPauseMs: 40, maxClosureMs: 60 };

/**
 * Spans from onsets: each onset lasts until the next one, a leading gap is silence, zero-length
 * spans are dropped, neighbouring silences merge. Onsets must be sorted by sample.
 */
export function spansFromOnsets(onsets: readonly PhonemeOnset[], totalSamples: number): SampleSpan[] {
  const spans: SampleSpan[] = [];
  const push = (phoneme: string, startSample: number, endSample: number): void => {
    if (endSample <= startSample) return;
    const last = spans.at(-1);
    if (last && last.phoneme === SILENCE_PHONEME && phoneme === SILENCE_PHONEME) last.endSample = endSample;
    else spans.push({ phoneme, startSample, endSample });
  };
  const clamped = onsets.map((onset) => ({
    phoneme: normalizePhoneme(onset.phoneme),
    sample: Math.min(totalSamples, Math.max(0, Math.round(onset.sample))),
  }));
  push(SILENCE_PHONEME, 0, clamped[0]?.sample ?? totalSamples);
  clamped.forEach((onset, index) => push(onset.phoneme, onset.sample, clamped[index + 1]?.sample ?? totalSamples));
  return spans;
}

/** Length of the run of silent samples that ends just before `endSample` (not before `startSample`). */
function silentRunBefore(pcm: Float32Array, startSample: number, endSample: number, amplitude: number): number {
  let index = endSample;
  while (index > startSample && Math.abs(pcm[index - 1]!) <= amplitude) index--;
  return endSample - index;
}

/**
 * Reads silence from the audio: the silent stretch before a stop (inside speech) is the stop's
 * closure, up to `maxClosureMs`; longer silent stretches at the end of a phoneme become "sil".
 */
export function refineWithSilence(
  spans: readonly SampleSpan[],
  pcm: Float32Array,
  sampleRateHz: number,
  options: TimelineOptions = DEFAULT_TIMELINE_OPTIONS,
): SampleSpan[] {
  const maxClosure = Math.round((options.maxClosureMs * sampleRateHz) / 1000);
  const minPause = Math.round((options.minPauseMs * sampleRateHz) / 1000);
  const refined = spans.map((span) => ({ ...span }));
  const result: SampleSpan[] = [];
  refined.forEach((span, index) => {
    const next = refined[index + 1];
    if (span.phoneme !== SILENCE_PHONEME) {
      let silent = silentRunBefore(pcm, span.startSample + 1, span.endSample, options.silenceAmplitude);
      if (next && isStop(next.phoneme) && silent > 0) {
        const closure = Math.min(silent, maxClosure);
        next.startSample -= closure;
        span.endSample -= closure;
        silent -= closure;
      }
      if (silent >= minPause) {
        span.endSample -= silent;
        result.push(span, { phoneme: SILENCE_PHONEME, startSample: span.endSample, endSample: span.endSample + silent });
        return;
      }
    }
    result.push(span);
  });
  return mergeSilences(result);
}

/** Joins neighbouring "sil" spans and drops empty ones. */
export function mergeSilences(spans: readonly SampleSpan[]): SampleSpan[] {
  const merged: SampleSpan[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && last.phoneme === SILENCE_PHONEME && span.phoneme === SILENCE_PHONEME) last.endSample = span.endSample;
    else if (span.endSample > span.startSample) merged.push({ ...span });
  }
  return merged;
}

/** Sample spans → millisecond spans; boundaries are shared, so the spans stay contiguous. */
export function toMillisecondSpans(spans: readonly SampleSpan[], sampleRateHz: number): PhonemeSpan[] {
  return spans.map((span) => ({
    phoneme: span.phoneme,
    startMs: (span.startSample * 1000) / sampleRateHz,
    endMs: (span.endSample * 1000) / sampleRateHz,
  }));
}
