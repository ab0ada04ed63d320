import { beforeAll, describe, expect, it } from 'vitest';
import { alignSpans } from '../../app/native-workers/tts/dtw-aligner';
import { EspeakSynthesizer } from '../../app/native-workers/tts/espeak-wasm';
import { refineWithSilence, spansFromOnsets, type SampleSpan } from '../../app/native-workers/tts/phoneme-timeline';

interface Rendering {
  spans: SampleSpan[];
  pcm: Float32Array;
  rateHz: number;
}

function render(voice: EspeakSynthesizer, text: string, speed: number): Rendering {
  const { pcm, events, sampleRateHz } = voice.synthesize(text, speed);
  return { spans: refineWithSilence(spansFromOnsets(events, pcm.length), pcm, sampleRateHz), pcm, rateHz: sampleRateHz };
}

/** Onset errors (ms) of aligned phonemes against the truth, pairing the k-th occurrence of each phoneme. */
function onsetErrorsMs(aligned: readonly SampleSpan[], truth: readonly SampleSpan[], rateHz: number): number[] {
  const occurrences = (spans: readonly SampleSpan[]): Map<string, SampleSpan> => {
    const seen = new Map<string, number>();
    const keyed = new Map<string, SampleSpan>();
    for (const span of spans) {
      if (span.phoneme === 'sil') continue;
      const count = seen.get(span.phoneme) ?? 0;
      seen.set(span.phoneme, count + 1);
      keyed.set(`${span.phoneme}#${count}`, span);
    }
    return keyed;
  };
  const truthByKey = occurrences(truth);
  return [...occurrences(aligned)].flatMap(([key, span]) => {
    const expected = truthByKey.get(key);
    return expected ? [(Math.abs(span.startSample - expected.startSample) * 1000) / rateHz] : [];
  });
}

describe('DTW alignment of a phoneme timeline onto another rendering', () => {
  let reference: EspeakSynthesizer;
  let target: EspeakSynthesizer;

  beforeAll(async () => {
    [reference, target] = await Promise.all([EspeakSynthesizer.create(), EspeakSynthesizer.create()]);
    reference.setVoice('en-us');
  });

  // Ground truth: the target rendering reports its own exact timeline; the Klatt variant is a
  // different synthesis method (another timbre), as a neural voice would be.
  it.each([
    ['Peter Piper picked a peck of pickled peppers.', 'en-us', 0.75],
    ['Sure, let me check that for you, it will only take a moment.', 'en-us', 1.35],
    ['The quick brown fox jumps over the lazy dog.', 'en-us+klatt', 1.2],
  ])('finds the onsets of "%s" spoken by %s at speed %d within the lip-sync targets', (text, targetVoice, speed) => {
    target.setVoice(targetVoice);
    const source = render(reference, text, 1);
    const truth = render(target, text, speed);
    const aligned = alignSpans(source.spans, source.pcm, source.rateHz, truth.pcm, truth.rateHz)!;

    expect(aligned[0]!.startSample).toBe(0);
    for (let i = 1; i < aligned.length; i++) expect(aligned[i]!.startSample).toBe(aligned[i - 1]!.endSample);
    expect(aligned.at(-1)!.endSample).toBe(truth.pcm.length);

    const errors = onsetErrorsMs(aligned, truth.spans, truth.rateHz);
    expect(errors.length).toBeGreaterThan(20);
    const meanMs = errors.reduce((sum, error) => sum + error, 0) / errors.length;
    const p95Ms = [...errors].sort((a, b) => a - b)[Math.floor(0.95 * (errors.length - 1))]!;
    expect(meanMs).toBeLessThan(20);
    expect(p95Ms).toBeLessThan(40);
  });
});
