import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { alignToReference } from '../../app/shared/lipsync/reference-alignment';
import { quantile } from '../../bench/bench-api';
import { mean, onsetErrorsMs } from '../../bench/lipsync-metrics';

/** The timing path of Piper voices in the sherpa-vits worker: eSpeak's exact timeline carried onto other audio. */
describe('Piper timing path: eSpeak reference aligned onto another rendering', () => {
  let voice: EmbeddedVoice;

  beforeAll(async () => {
    voice = await EmbeddedVoice.create();
  });

  // Ground truth: the target rendering reports its own exact timeline; the Klatt variant is a
  // different synthesis method (another timbre), as a neural voice would be.
  it.each([
    ['Peter Piper picked a peck of pickled peppers.', 'en-us', 0.75],
    ['Sure, let me check that for you, it will only take a moment.', 'en-us', 1.35],
    ['The quick brown fox jumps over the lazy dog.', 'en-us+klatt', 1.2],
  ])('finds the onsets of "%s" spoken by %s at speed %d within the lip-sync targets', (text, targetVoice, speed) => {
    const source = voice.render(text, { voice: 'en-us', speed: 1 });
    const truth = voice.render(text, { voice: targetVoice, speed });
    const aligned = alignToReference(source, truth).phonemes;

    expect(aligned[0]!.startMs).toBe(0);
    for (let i = 1; i < aligned.length; i++) expect(aligned[i]!.startMs).toBe(aligned[i - 1]!.endMs);
    expect(aligned.at(-1)!.endMs).toBeCloseTo((truth.pcm.length * 1000) / truth.sampleRateHz, 6);

    const errors = onsetErrorsMs(truth.phonemes, aligned);
    expect(errors.length).toBeGreaterThan(20);
    expect(mean(errors)).toBeLessThan(20);
    expect(quantile(errors, 0.95)).toBeLessThan(40);
  });
});
