import { describe, expect, it } from 'vitest';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import { EnvelopeLipSync } from '../../app/renderer/lipsync/envelope-lipsync';
import { phonemeToViseme } from '../../app/renderer/lipsync/phoneme-to-viseme';

describe('phonemeToViseme', () => {
  it('maps IPA, eSpeak and ARPAbet symbols to Oculus visemes', () => {
    expect(['p', 'b', 'm', 'M', 'B'].map(phonemeToViseme)).toEqual(['PP', 'PP', 'PP', 'PP', 'PP']);
    expect(phonemeToViseme('ˈa')).toBe('aa');
    expect(phonemeToViseme('aɪ')).toBe('aa');
    expect(phonemeToViseme('AH0')).toBe('aa');
    expect(phonemeToViseme('tʃ')).toBe('CH');
    expect(phonemeToViseme('θ')).toBe('TH');
    expect(phonemeToViseme('f')).toBe('FF');
    expect(phonemeToViseme('iː')).toBe('ih');
    expect(phonemeToViseme('uw')).toBe('ou');
    expect(phonemeToViseme('oʊ')).toBe('oh');
  });

  it('treats silence as sil and unknown symbols as a half-open mouth', () => {
    expect(phonemeToViseme('')).toBe('sil');
    expect(phonemeToViseme('sil')).toBe('sil');
    expect(phonemeToViseme('_')).toBe('sil');
    expect(phonemeToViseme('☃')).toBe('E');
  });
});

/** "ama": open, closed lips for a short m, open again. */
const AMA: PhonemeSpan[] = [
  { phoneme: 'a', startMs: 0, endMs: 120 },
  { phoneme: 'm', startMs: 120, endMs: 190 },
  { phoneme: 'a', startMs: 190, endMs: 320 },
];

describe('EnvelopeLipSync', () => {
  it('closes the lips fully in the middle of a short bilabial between vowels', () => {
    const lipSync = new EnvelopeLipSync();
    lipSync.schedule(AMA, 10);
    const closed = lipSync.sample(10.155);
    expect(closed.viseme).toBe('PP');
    expect(closed.weights.PP).toBeCloseTo(1, 5);
    expect(closed.weights.aa ?? 0).toBeCloseTo(0, 5);
    expect(lipSync.sample(10.06).viseme).toBe('aa');
    expect(lipSync.sample(10.26).viseme).toBe('aa');
  });

  it('places keyframes on the clock it is given (chunk start + phoneme offset)', () => {
    const lipSync = new EnvelopeLipSync();
    lipSync.schedule(AMA, 5);
    expect(lipSync.sample(4.5).viseme).toBe('sil');
    expect(lipSync.sample(5.05).viseme).toBe('aa');
    expect(lipSync.sample(6).viseme).toBe('sil');
  });

  it('blends smoothly: no weight jumps between consecutive milliseconds', () => {
    const lipSync = new EnvelopeLipSync();
    lipSync.schedule(AMA, 0);
    let previous = lipSync.sample(-0.1).weights;
    for (let ms = -99; ms <= 500; ms += 1) {
      const { weights } = lipSync.sample(ms / 1000);
      for (const viseme of new Set([...Object.keys(weights), ...Object.keys(previous)]) as Set<keyof typeof weights>) {
        expect(Math.abs((weights[viseme] ?? 0) - (previous[viseme] ?? 0))).toBeLessThan(0.08);
      }
      const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-9);
      previous = weights;
    }
  });

  it('forgets what would be heard after a cut', () => {
    const lipSync = new EnvelopeLipSync();
    lipSync.schedule(AMA, 0);
    lipSync.cut(0.1);
    expect(lipSync.sample(0.05).viseme).toBe('aa');
    expect(lipSync.sample(0.25)).toEqual({ viseme: 'sil', weights: {} });
  });
});
