import { beforeAll, describe, expect, it } from 'vitest';
import { alignSpans } from '../../app/native-workers/tts/dtw-aligner';
import { EspeakSynthesizer } from '../../app/native-workers/tts/espeak-wasm';
import { refineWithSilence, spansFromOnsets, type SampleSpan } from '../../app/native-workers/tts/phoneme-timeline';

function exactSpans(voice: EspeakSynthesizer, text: string, speed: number): { spans: SampleSpan[]; pcm: Float32Array; rateHz: number } {
  const { pcm, events, sampleRateHz } = voice.synthesize(text, speed);
  return { spans: refineWithSilence(spansFromOnsets(events, pcm.length), pcm, sampleRateHz), pcm, rateHz: sampleRateHz };
}

describe('DTW alignment of a phoneme timeline onto another rendering', () => {
  let voice: EspeakSynthesizer;

  beforeAll(async () => {
    voice = await EspeakSynthesizer.create();
    voice.setVoice('en-us');
  });

  // Ground truth: the same voice at another speed reports its own exact timeline.
  it.each([
    ['Peter Piper picked a peck of pickled peppers.', 0.75],
    ['Sure, let me check that for you, it will only take a moment.', 1.35],
  ])('finds the onsets of "%s" at speed %d within the lip-sync targets', (text, speed) => {
    const reference = exactSpans(voice, text, 1);
    const truth = exactSpans(voice, text, speed);
    const aligned = alignSpans(reference.spans, reference.pcm, reference.rateHz, truth.pcm, truth.rateHz)!;

    expect(aligned[0]!.startSample).toBe(0);
    for (let i = 1; i < aligned.length; i++) expect(aligned[i]!.startSample).toBe(aligned[i - 1]!.endSample);
    expect(aligned.at(-1)!.endSample).toBe(truth.pcm.length);

    const spoken = (spans: SampleSpan[]): SampleSpan[] => spans.filter((span) => span.phoneme !== 'sil');
    expect(spoken(aligned).map((span) => span.phoneme)).toEqual(spoken(truth.spans).map((span) => span.phoneme));
    const errorsMs = spoken(aligned).map((span, i) => (Math.abs(span.startSample - spoken(truth.spans)[i]!.startSample) * 1000) / truth.rateHz);
    const meanMs = errorsMs.reduce((sum, error) => sum + error, 0) / errorsMs.length;
    const p95Ms = [...errorsMs].sort((a, b) => a - b)[Math.floor(0.95 * (errorsMs.length - 1))]!;
    expect(meanMs).toBeLessThan(20);
    expect(p95Ms).toBeLessThan(40);
  });
});
