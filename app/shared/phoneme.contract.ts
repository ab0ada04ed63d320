import { z } from 'zod';

/** One phoneme of a TTS chunk, times in ms relative to the chunk's first sample. */
export const PhonemeSpanSchema = z.object({
  phoneme: z.string(),
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
});
export type PhonemeSpan = z.infer<typeof PhonemeSpanSchema>;

/** Oculus viseme set, the common denominator of avatar formats. */
export const VISEMES = ['sil', 'PP', 'FF', 'TH', 'DD', 'kk', 'CH', 'SS', 'nn', 'RR', 'aa', 'E', 'ih', 'oh', 'ou'] as const;
export type Viseme = (typeof VISEMES)[number];
