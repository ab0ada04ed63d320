import { beforeAll, describe, expect, it } from 'vitest';
import { EspeakSynthesizer } from '../../app/native-workers/tts/espeak-wasm';
import { refineWithSilence, spansFromOnsets, toMillisecondSpans } from '../../app/native-workers/tts/phoneme-timeline';
import { alignToReference } from '../../app/shared/lipsync/reference-alignment';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';

interface Rendering {
  phonemes: PhonemeSpan[];
  pcm: Float32Array;
  sampleRateHz: number;
}

function render(voice: EspeakSynthesizer, text: string, speed: number): Rendering {
  const { pcm, events, sampleRateHz } = voice.synthesize(text, speed);
  return { phonemes: toMillisecondSpans(refineWithSilence(spansFromOnsets(events, pcm.length), pcm, sampleRateHz), sampleRateHz), pcm, sampleRateHz };
}

/** Onset errors (ms) of aligned phonemes against the truth, pairing the k-th occurrence of each phoneme. */
function onsetErrorsMs(aligned: readonly PhonemeSpan[], truth: readonly PhonemeSpan[]): number[] {
  const onsets = (spans: readonly PhonemeSpan[]): Map<string, number> => {
    const seen = new Map<string, number>();
    const keyed = new Map<string, number>();
    for (const span of spans) {
      if (span.phoneme === 'sil' || span.endMs <= span.startMs) continue;
      const count = seen.get(span.phoneme) ?? 0;
      seen.set(span.phoneme, count + 1);
      keyed.set(`${span.phoneme}#${count}`, span.startMs);
    }
    return keyed;
  };
  const truthOnsets = onsets(truth);
  return [...onsets(aligned)].flatMap(([key, startMs]) => {
    const expected = truthOnsets.get(key);
    return expected === undefined ? [] : [Math.abs(startMs - expected)];
  });
}

/** The timing path of Piper voices in the sherpa-vits worker: eSpeak's exact timeline carried onto other audio. */
describe('Piper timing path: eSpeak reference aligned onto another rendering', () => {
  let voice: EspeakSynthesizer;

  beforeAll(async () => {
    voice = await EspeakSynthesizer.create();
  });

  // Ground truth: the target rendering reports its own exact timeline; the Klatt variant is a
  // different synthesis method (another timbre), as a neural voice would be.
  it.each([
    ['Peter Piper picked a peck of pickled peppers.', 'en-us', 0.75],
    ['Sure, let me check that for you, it will only take a moment.', 'en-us', 1.35],
    ['The quick brown fox jumps over the lazy dog.', 'en-us+klatt', 1.2],
  ])('finds the onsets of "%s" spoken by %s at speed %d within the lip-sync targets', (text, targetVoice, speed) => {
    voice.setVoice('en-us');
    const source = render(voice, text, 1);
    voice.setVoice(targetVoice);
    const truth = render(voice, text, speed);
    const aligned = alignToReference(source, truth).phonemes;

    expect(aligned[0]!.startMs).toBe(0);
    for (let i = 1; i < aligned.length; i++) expect(aligned[i]!.startMs).toBe(aligned[i - 1]!.endMs);
    expect(aligned.at(-1)!.endMs).toBeCloseTo((truth.pcm.length * 1000) / truth.sampleRateHz, 6);

    const errors = onsetErrorsMs(aligned, truth.phonemes);
    expect(errors.length).toBeGreaterThan(20);
    const meanMs = errors.reduce((sum, error) => sum + error, 0) / errors.length;
    const p95Ms = [...errors].sort((a, b) => a - b)[Math.floor(0.95 * (errors.length - 1))]!;
    expect(meanMs).toBeLessThan(20);
    expect(p95Ms).toBeLessThan(40);
  });
});
