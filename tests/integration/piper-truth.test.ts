/**
 * `synthesizeWithTruth` (bench/native-piper.ts): the dev Piper voice called in this thread, with
 * its exact timeline, as the lip-sync benchmark uses it. Skipped (with the reason in the title)
 * when the dev models cannot be fetched.
 */
import { describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { synthesizeWithTruth } from '../../bench/native-piper';

const dev = await devModelsOrSkipReason();

describe.skipIf(!dev.ok)(`Piper speech with its exact timeline, in-thread${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  it(
    'returns audio whose phonemes tile it exactly; with noise_w 0 the timing repeats',
    async () => {
      const text = 'Would you like a cup of tea before we go?';
      const first = await synthesizeWithTruth(text, { noiseW: 0 });
      expect(first.sampleRateHz).toBe(22_050);
      expect(first.phonemes[0]!.startMs).toBe(0);
      expect(first.phonemes.at(-1)!.endMs).toBe((first.pcm.length * 1000) / first.sampleRateHz);
      first.phonemes.forEach((span, index) => index > 0 && expect(span.startMs).toBe(first.phonemes[index - 1]!.endMs));
      expect(first.phonemes.map((span) => span.phoneme)).toContain('p');
      const again = await synthesizeWithTruth(text, { noiseW: 0 });
      expect(again.phonemes).toEqual(first.phonemes);
      // Random durations (the config's noise_w) may add a pause, never change the phonemes.
      const spoken = (phonemes: typeof first.phonemes): string[] => phonemes.map((span) => span.phoneme).filter((label) => label !== 'sil');
      const random = await synthesizeWithTruth(text);
      expect(spoken(random.phonemes)).toEqual(spoken(first.phonemes));
    },
    240_000,
  );
});
