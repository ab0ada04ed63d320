import { describe, expect, it } from 'vitest';
import {
  buildVisemeTrack,
  buildVisemeTrackFromPhonemes,
  DEFAULT_VISEME_TRACK_OPTIONS,
  dominantViseme,
  emptyVisemeWeights,
  sampleVisemeWeights,
  smoothstep,
  type VisemeWeights,
} from '../../app/shared/lipsync/viseme-track';
import type { Viseme } from '../../app/shared/phoneme.contract';

/** The non-zero weights, rounded to 6 decimals. */
function nonZero(weights: VisemeWeights): Partial<Record<Viseme, number>> {
  return Object.fromEntries(
    Object.entries(weights)
      .filter(([, weight]) => weight > 1e-12)
      .map(([viseme, weight]) => [viseme, Math.round(weight * 1e6) / 1e6]),
  );
}

describe('smoothstep', () => {
  it('is 0, ½ and 1 at the start, middle and end, C¹ in between', () => {
    expect(smoothstep(0, 60, -1)).toBe(0);
    expect(smoothstep(0, 60, 30)).toBe(0.5);
    expect(smoothstep(0, 60, 15)).toBeCloseTo(0.15625, 12);
    expect(smoothstep(0, 60, 61)).toBe(1);
    expect(smoothstep(10, 10, 9)).toBe(0);
    expect(smoothstep(10, 10, 10)).toBe(1);
  });
});

describe('viseme track', () => {
  // sil [0,100) aa [100,300) sil [300,400): every transition is the full 60 ms, centred on the boundary.
  const vowel = buildVisemeTrack([
    { viseme: 'sil', startMs: 0, endMs: 100 },
    { viseme: 'aa', startMs: 100, endMs: 300 },
    { viseme: 'sil', startMs: 300, endMs: 400 },
  ]);

  it('builds one envelope per span with transitions centred on the boundaries', () => {
    expect(vowel.envelopes.map((envelope) => [envelope.viseme, envelope.riseStartMs, envelope.peakStartMs, envelope.peakEndMs, envelope.fallEndMs])).toEqual([
      ['sil', -30, 30, 70, 130],
      ['aa', 70, 130, 270, 330],
      ['sil', 270, 330, 370, 430],
    ]);
    expect(vowel.startMs).toBe(0);
    expect(vowel.endMs).toBe(400);
  });

  it('samples the exact crossfade: anticipatory rise before the onset, ½ at the boundary, full on the plateau', () => {
    expect(nonZero(sampleVisemeWeights(vowel, 60))).toEqual({ sil: 1 });
    expect(nonZero(sampleVisemeWeights(vowel, 85))).toEqual({ sil: 0.84375, aa: 0.15625 });
    expect(nonZero(sampleVisemeWeights(vowel, 100))).toEqual({ sil: 0.5, aa: 0.5 });
    expect(nonZero(sampleVisemeWeights(vowel, 115))).toEqual({ sil: 0.15625, aa: 0.84375 });
    expect(nonZero(sampleVisemeWeights(vowel, 200))).toEqual({ aa: 1 });
    expect(nonZero(sampleVisemeWeights(vowel, 315))).toEqual({ sil: 0.84375, aa: 0.15625 });
    expect(nonZero(sampleVisemeWeights(vowel, 1000))).toEqual({ sil: 1 });
    expect(nonZero(sampleVisemeWeights(vowel, -1000))).toEqual({ sil: 1 });
  });

  it('weights always sum to 1 and the dominant viseme switches at the boundary, not later', () => {
    for (let timeMs = -50; timeMs < 450; timeMs += 7) {
      const weights = sampleVisemeWeights(vowel, timeMs);
      expect(Object.values(weights).reduce((sum, weight) => sum + weight, 0)).toBeCloseTo(1, 9);
    }
    expect(dominantViseme(sampleVisemeWeights(vowel, 99))).toBe('sil');
    expect(dominantViseme(sampleVisemeWeights(vowel, 101))).toBe('aa');
    expect(dominantViseme(sampleVisemeWeights(vowel, 299))).toBe('aa');
    expect(dominantViseme(sampleVisemeWeights(vowel, 301))).toBe('sil');
  });

  it('holds a short bilabial fully closed for the minimum closure, overriding its neighbours', () => {
    // PP lasts 20 ms: its plateau widens to 50 ms around its centre (110 ms).
    const track = buildVisemeTrack([
      { viseme: 'sil', startMs: 0, endMs: 100 },
      { viseme: 'PP', startMs: 100, endMs: 120 },
      { viseme: 'aa', startMs: 120, endMs: 300 },
      { viseme: 'sil', startMs: 300, endMs: 400 },
    ]);
    const closure = track.envelopes.find((envelope) => envelope.viseme === 'PP')!;
    expect([closure.riseStartMs, closure.peakStartMs, closure.peakEndMs, closure.fallEndMs]).toEqual([45, 85, 135, 175]);
    for (const timeMs of [85, 100, 110, 120, 135]) expect(nonZero(sampleVisemeWeights(track, timeMs))).toEqual({ PP: 1 });
    // Release: PP falls over 40 ms while the vowel (already at full weight) takes what PP leaves.
    expect(nonZero(sampleVisemeWeights(track, 140))).toEqual({ PP: 0.957031, aa: 0.042969 });
    expect(nonZero(sampleVisemeWeights(track, 155))).toEqual({ PP: 0.5, aa: 0.5 });
    expect(nonZero(sampleVisemeWeights(track, 175))).toEqual({ aa: 1 });
  });

  it('reaches a very short phoneme only partly (undershoot) instead of flickering', () => {
    const track = buildVisemeTrack([
      { viseme: 'aa', startMs: 0, endMs: 100 },
      { viseme: 'ih', startMs: 100, endMs: 110 },
      { viseme: 'aa', startMs: 110, endMs: 200 },
    ]);
    expect(nonZero(sampleVisemeWeights(track, 105))).toEqual({ aa: 0.15625, ih: 0.84375 });
    // Speech at the clip's edges opens from and returns to rest.
    expect(nonZero(sampleVisemeWeights(track, 0))).toEqual({ sil: 0.5, aa: 0.5 });
    expect(nonZero(sampleVisemeWeights(track, 200))).toEqual({ sil: 0.5, aa: 0.5 });
  });

  it('leads by leadMs when asked', () => {
    const track = buildVisemeTrack(
      [
        { viseme: 'sil', startMs: 0, endMs: 100 },
        { viseme: 'ou', startMs: 100, endMs: 300 },
      ],
      { ...DEFAULT_VISEME_TRACK_OPTIONS, leadMs: 20 },
    );
    expect(nonZero(sampleVisemeWeights(track, 80))).toEqual({ sil: 0.5, ou: 0.5 });
  });

  it('builds from phonemes, reuses the output object and handles an empty timeline', () => {
    const track = buildVisemeTrackFromPhonemes([
      { phoneme: 'sil', startMs: 0, endMs: 100 },
      { phoneme: 'aɪ', startMs: 100, endMs: 300 },
    ]);
    expect(track.envelopes.map((envelope) => envelope.viseme)).toEqual(['sil', 'aa', 'ih', 'sil']);
    const out = emptyVisemeWeights();
    expect(sampleVisemeWeights(track, 150, out)).toBe(out);
    expect(dominantViseme(out)).toBe('aa');
    expect(dominantViseme(sampleVisemeWeights(track, 280, out))).toBe('ih');
    expect(nonZero(sampleVisemeWeights(buildVisemeTrack([]), 0))).toEqual({ sil: 1 });
  });
});
