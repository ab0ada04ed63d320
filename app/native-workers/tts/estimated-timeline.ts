import { SILENCE_PHONEME, expectedDurationWeight } from './ipa-phoneme-classes';
import { mergeSilences, type SampleSpan } from './phoneme-timeline';

/**
 * A phoneme timeline for audio whose synthesizer reports no timing. Leading and trailing silence
 * and the pauses inside are found in the audio; each pause is matched to a word separator of the
 * phoneme sequence (in order, nearest to where the separator is expected); between those anchors
 * the sound is shared among the phonemes in proportion to their typical durations. Spans tile the
 * audio exactly.
 */

const FRAME_MS = 10;
/** A frame is silent below this fraction of the loudest frame's RMS. */
const SILENT_FRACTION_OF_PEAK = 0.02;
/** Shorter silent stretches are stop closures, not pauses. */
const MIN_PAUSE_MS = 40;
/** A word separator in a neural voice is a short transition unless the audio shows a pause. */
const SEPARATOR_WEIGHT = 0.4;
/** Cost (in ms of misplacement) of leaving a pause unexplained by any separator. */
const UNMATCHED_PAUSE_COST_MS = 150;

interface Interval {
  startSample: number;
  endSample: number;
}

/** Silent or audible 10 ms frames of `pcm`. */
function silentFrames(pcm: Float32Array, frame: number): boolean[] {
  const rms: number[] = [];
  for (let start = 0; start < pcm.length; start += frame) {
    let sum = 0;
    const end = Math.min(pcm.length, start + frame);
    for (let i = start; i < end; i++) sum += pcm[i]! * pcm[i]!;
    rms.push(Math.sqrt(sum / (end - start)));
  }
  const peak = rms.reduce((max, value) => Math.max(max, value), 0);
  return rms.map((value) => value < peak * SILENT_FRACTION_OF_PEAK);
}

/** [first, last) sample of the audible part, at frame resolution; null for silent audio. */
export function audibleRange(pcm: Float32Array, sampleRateHz: number): Interval | null {
  return findSpeech(pcm, sampleRateHz)?.audible ?? null;
}

/** The audible range and the pauses inside it, at frame resolution; null for silent audio. */
export function findSpeech(pcm: Float32Array, sampleRateHz: number): { audible: Interval; pauses: Interval[] } | null {
  const frame = Math.max(1, Math.round((FRAME_MS * sampleRateHz) / 1000));
  const silent = silentFrames(pcm, frame);
  const first = silent.indexOf(false);
  if (first < 0) return null;
  const last = silent.lastIndexOf(false);
  const minPauseFrames = Math.ceil(MIN_PAUSE_MS / FRAME_MS);
  const pauses: Interval[] = [];
  for (let index = first; index <= last; index++) {
    if (!silent[index]) continue;
    let end = index;
    while (end <= last && silent[end]) end++;
    if (end - index >= minPauseFrames) pauses.push({ startSample: index * frame, endSample: end * frame });
    index = end;
  }
  return { audible: { startSample: first * frame, endSample: Math.min(pcm.length, (last + 1) * frame) }, pauses };
}

/**
 * Pairs pauses with separators (indices into `phonemes`) in order, minimizing the distance between
 * each pause and the position its separator would have without anchors.
 */
function matchPauses(pauses: readonly Interval[], separatorPositions: readonly number[], samplesPerMs: number): Map<number, Interval> {
  const rows = pauses.length;
  const columns = separatorPositions.length;
  const unmatched = UNMATCHED_PAUSE_COST_MS * samplesPerMs;
  // cost[i][j]: best cost of explaining the first i pauses with the first j separators.
  const cost = Array.from({ length: rows + 1 }, (_, i) => new Float64Array(columns + 1).fill(i * unmatched));
  for (let i = 1; i <= rows; i++) {
    const pause = pauses[i - 1]!;
    const centre = (pause.startSample + pause.endSample) / 2;
    for (let j = 1; j <= columns; j++) {
      const match = cost[i - 1]![j - 1]! + Math.abs(centre - separatorPositions[j - 1]!);
      cost[i]![j] = Math.min(match, cost[i - 1]![j]! + unmatched, cost[i]![j - 1]!);
    }
  }
  const matched = new Map<number, Interval>();
  for (let i = rows, j = columns; i > 0 && j > 0; ) {
    const pause = pauses[i - 1]!;
    const centre = (pause.startSample + pause.endSample) / 2;
    if (cost[i]![j] === cost[i - 1]![j - 1]! + Math.abs(centre - separatorPositions[j - 1]!)) {
      matched.set(j - 1, pause);
      i--;
      j--;
    } else if (cost[i]![j] === cost[i - 1]![j]! + unmatched) i--;
    else j--;
  }
  return matched;
}

/** Shares [startSample, endSample) among `phonemes` by weight (sound between two pauses with no phoneme left is "sil"). */
function spread(phonemes: readonly string[], weights: readonly number[], startSample: number, endSample: number): SampleSpan[] {
  if (endSample <= startSample) return [];
  if (phonemes.length === 0) return [{ phoneme: SILENCE_PHONEME, startSample, endSample }];
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const spans: SampleSpan[] = [];
  let cumulative = 0;
  phonemes.forEach((phoneme, index) => {
    const from = startSample + Math.round((cumulative / total) * (endSample - startSample));
    cumulative += weights[index]!;
    const to = startSample + Math.round((cumulative / total) * (endSample - startSample));
    if (to > from) spans.push({ phoneme, startSample: from, endSample: to });
  });
  return spans;
}

/** Spreads `phonemes` ("sil" = word separator) over `pcm`, anchored at the pauses the audio shows. */
export function estimateSpans(sequence: readonly string[], pcm: Float32Array, sampleRateHz: number): SampleSpan[] {
  const speech = findSpeech(pcm, sampleRateHz);
  // Separators at either end belong to the leading and trailing silence.
  const first = sequence.findIndex((phoneme) => phoneme !== SILENCE_PHONEME);
  const phonemes = first < 0 ? [] : sequence.slice(first, sequence.findLastIndex((phoneme) => phoneme !== SILENCE_PHONEME) + 1);
  if (!speech || phonemes.length === 0) return pcm.length > 0 ? [{ phoneme: SILENCE_PHONEME, startSample: 0, endSample: pcm.length }] : [];
  const { audible, pauses } = speech;
  const weights = phonemes.map((phoneme) => (phoneme === SILENCE_PHONEME ? SEPARATOR_WEIGHT : expectedDurationWeight(phoneme)));

  // Where each separator would fall without anchors, to match pauses against.
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const separators: number[] = [];
  const separatorPositions: number[] = [];
  let cumulative = 0;
  phonemes.forEach((phoneme, index) => {
    if (phoneme === SILENCE_PHONEME) {
      separators.push(index);
      const centre = cumulative + weights[index]! / 2;
      separatorPositions.push(audible.startSample + (centre / totalWeight) * (audible.endSample - audible.startSample));
    }
    cumulative += weights[index]!;
  });
  const anchors = [...matchPauses(pauses, separatorPositions, sampleRateHz / 1000)]
    .map(([separator, pause]) => ({ index: separators[separator]!, pause }))
    .sort((a, b) => a.index - b.index);

  const spans: SampleSpan[] = [];
  if (audible.startSample > 0) spans.push({ phoneme: SILENCE_PHONEME, startSample: 0, endSample: audible.startSample });
  let fromIndex = 0;
  let fromSample = audible.startSample;
  for (const { index, pause } of anchors) {
    spans.push(...spread(phonemes.slice(fromIndex, index), weights.slice(fromIndex, index), fromSample, pause.startSample));
    spans.push({ phoneme: SILENCE_PHONEME, startSample: pause.startSample, endSample: pause.endSample });
    fromIndex = index + 1;
    fromSample = pause.endSample;
  }
  spans.push(...spread(phonemes.slice(fromIndex), weights.slice(fromIndex), fromSample, audible.endSample));
  if (audible.endSample < pcm.length) spans.push({ phoneme: SILENCE_PHONEME, startSample: audible.endSample, endSample: pcm.length });
  return mergeSilences(spans);
}
