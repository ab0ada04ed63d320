import { SILENCE_PHONEME, expectedDurationWeight } from './ipa-phoneme-classes';
import type { SampleSpan } from './phoneme-timeline';

/**
 * A phoneme timeline for audio whose synthesizer reports no timing: leading and trailing silence
 * are found in the audio, and the sound between them is shared among the phonemes in proportion
 * to their typical durations. Spans tile the audio exactly.
 */

const FRAME_MS = 10;
/** A frame is silent below this fraction of the loudest frame's RMS. */
const SILENT_FRACTION_OF_PEAK = 0.02;
/** A word separator in a neural voice is a short transition, not a pause. */
const SEPARATOR_WEIGHT = 0.4;

/** [first, last) sample of the audible part, at frame resolution; null for silent audio. */
export function audibleRange(pcm: Float32Array, sampleRateHz: number): { startSample: number; endSample: number } | null {
  const frame = Math.max(1, Math.round((FRAME_MS * sampleRateHz) / 1000));
  const rms: number[] = [];
  for (let start = 0; start < pcm.length; start += frame) {
    let sum = 0;
    const end = Math.min(pcm.length, start + frame);
    for (let i = start; i < end; i++) sum += pcm[i]! * pcm[i]!;
    rms.push(Math.sqrt(sum / (end - start)));
  }
  const peak = Math.max(0, ...rms);
  if (peak === 0) return null;
  const audible = (value: number): boolean => value >= peak * SILENT_FRACTION_OF_PEAK;
  const first = rms.findIndex(audible);
  const last = rms.findLastIndex(audible);
  return { startSample: first * frame, endSample: Math.min(pcm.length, (last + 1) * frame) };
}

/** Spreads `phonemes` over the audible part of `pcm` by expected duration. */
export function estimateSpans(phonemes: readonly string[], pcm: Float32Array, sampleRateHz: number): SampleSpan[] {
  const range = audibleRange(pcm, sampleRateHz);
  if (!range || phonemes.length === 0) return pcm.length > 0 ? [{ phoneme: SILENCE_PHONEME, startSample: 0, endSample: pcm.length }] : [];
  const weights = phonemes.map((phoneme) => (phoneme === SILENCE_PHONEME ? SEPARATOR_WEIGHT : expectedDurationWeight(phoneme)));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const audibleSamples = range.endSample - range.startSample;
  const spans: SampleSpan[] = [];
  if (range.startSample > 0) spans.push({ phoneme: SILENCE_PHONEME, startSample: 0, endSample: range.startSample });
  let cumulativeWeight = 0;
  phonemes.forEach((phoneme, index) => {
    const startSample = range.startSample + Math.round((cumulativeWeight / totalWeight) * audibleSamples);
    cumulativeWeight += weights[index]!;
    const endSample = range.startSample + Math.round((cumulativeWeight / totalWeight) * audibleSamples);
    if (endSample > startSample) spans.push({ phoneme, startSample, endSample });
  });
  if (range.endSample < pcm.length) spans.push({ phoneme: SILENCE_PHONEME, startSample: range.endSample, endSample: pcm.length });
  return spans;
}
