import { describe, expect, it } from 'vitest';
import { computeMfcc } from '../../app/shared/lipsync/audio-features';
import { estimateVisemesFromVolume } from '../../app/shared/lipsync/audio-visemes';
import { dtwPath } from '../../app/shared/lipsync/dtw';
import { alignToReference } from '../../app/shared/lipsync/reference-alignment';

/** Concatenated tones: [frequencyHz (0 = silence), durationMs] at `sampleRateHz`. */
function tones(parts: readonly (readonly [number, number])[], sampleRateHz: number): Float32Array {
  const total = parts.reduce((sum, [, durationMs]) => sum + Math.round((durationMs * sampleRateHz) / 1000), 0);
  const pcm = new Float32Array(total);
  let offset = 0;
  for (const [frequencyHz, durationMs] of parts) {
    const count = Math.round((durationMs * sampleRateHz) / 1000);
    for (let i = 0; i < count; i++) {
      const t = i / sampleRateHz;
      // A tone plus its octave, so each part has a distinct spectral shape.
      pcm[offset + i] = frequencyHz === 0 ? 0 : 0.3 * Math.sin(2 * Math.PI * frequencyHz * t) + 0.15 * Math.sin(4 * Math.PI * frequencyHz * t);
    }
    offset += count;
  }
  return pcm;
}

describe('MFCC features', () => {
  it('has one frame per hop, centred on i·hop, and more energy where the signal is louder', () => {
    const pcm = tones([[0, 200], [1000, 200]], 16000);
    const features = computeMfcc(pcm, 16000);
    expect(features.frameCount).toBe(41);
    expect(features.coefficientCount).toBe(13);
    expect(features.mfcc).toHaveLength(41 * 13);
    expect(features.logEnergy[10]!).toBeLessThan(-20);
    expect(features.logEnergy[30]!).toBeGreaterThan(-5);
  });

  it('gives the same cepstrum for the same sound at different sample rates', () => {
    const at22k = computeMfcc(tones([[440, 300]], 22050), 22050);
    const at44k = computeMfcc(tones([[440, 300]], 44100), 44100);
    const frame = 15;
    for (let c = 1; c < 13; c++) {
      expect(Math.abs(at44k.mfcc[frame * 13 + c]! - at22k.mfcc[frame * 13 + c]!)).toBeLessThan(0.5);
    }
  });
});

describe('DTW', () => {
  it('finds the warp between a sequence and a stretched copy', () => {
    const a = Float32Array.from([0, 1, 2, 3, 4]);
    const b = Float32Array.from([0, 0, 1, 2, 2, 2, 3, 4, 4]);
    const path = dtwPath(a, 5, b, 9, 1);
    expect(Array.from(path.a)).toEqual([0, 0, 1, 2, 2, 2, 3, 4, 4]);
    expect(Array.from(path.b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(path.meanCost).toBe(0);
  });

  it('stays within a band on long sequences and still ends at both last frames', () => {
    const count = 3000;
    const a = Float32Array.from({ length: count }, (_, i) => Math.sin(i / 40));
    const b = Float32Array.from({ length: count + 300 }, (_, i) => Math.sin((i * count) / (count + 300) / 40));
    const path = dtwPath(a, count, b, count + 300, 1, { minBandFrames: 50, bandShare: 0.05, stretchPenalty: 0 });
    expect(path.a[0]).toBe(0);
    expect(path.b[0]).toBe(0);
    expect(path.a.at(-1)).toBe(count - 1);
    expect(path.b.at(-1)).toBe(count + 299);
    for (let k = 1; k < path.a.length; k++) {
      expect(path.a[k]! - path.a[k - 1]!).toBeGreaterThanOrEqual(0);
      expect(path.b[k]! - path.b[k - 1]!).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('alignment to a reference', () => {
  it('carries reference boundaries onto a target with other durations and another sample rate', () => {
    const reference = {
      pcm: tones([[0, 100], [300, 200], [1200, 300], [0, 80], [2500, 200], [0, 100]], 22050),
      sampleRateHz: 22050,
      phonemes: [
        { phoneme: 'sil', startMs: 0, endMs: 100 },
        { phoneme: 'a', startMs: 100, endMs: 300 },
        { phoneme: 'i', startMs: 300, endMs: 600 },
        { phoneme: 'sil', startMs: 600, endMs: 680 },
        { phoneme: 's', startMs: 680, endMs: 880 },
        { phoneme: 'sil', startMs: 880, endMs: 980 },
      ],
    };
    const target = { pcm: tones([[0, 150], [300, 120], [1200, 450], [0, 150], [2500, 250], [0, 60]], 16000), sampleRateHz: 16000 };
    const { phonemes } = alignToReference(reference, target);
    expect(phonemes.map((span) => span.phoneme)).toEqual(['sil', 'a', 'i', 'sil', 's', 'sil']);
    const expectedStartsMs = [0, 150, 270, 720, 870, 1120];
    phonemes.forEach((span, index) => expect(Math.abs(span.startMs - expectedStartsMs[index]!)).toBeLessThanOrEqual(10));
    expect(phonemes.at(-1)!.endMs).toBeCloseTo(1180, 6);
    for (let index = 1; index < phonemes.length; index++) expect(phonemes[index]!.startMs).toBe(phonemes[index - 1]!.endMs);
  });
});

describe('volume-only baseline', () => {
  it('opens the mouth while the audio is loud and rests in silence', () => {
    const spans = estimateVisemesFromVolume({ pcm: tones([[0, 200], [500, 300], [0, 200]], 16000), sampleRateHz: 16000 });
    expect(spans.map((span) => span.viseme)).toEqual(['sil', 'aa', 'sil']);
    expect(Math.abs(spans[1]!.startMs - 200)).toBeLessThanOrEqual(10);
    expect(Math.abs(spans[1]!.endMs - 500)).toBeLessThanOrEqual(10);
    expect(spans.at(-1)!.endMs).toBe(700);
  });
});
