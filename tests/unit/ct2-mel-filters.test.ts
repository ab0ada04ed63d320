import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hzToSlaneyMel, slaneyMelFilterBank, slaneyMelToHz } from '../../app/shared/audio/mel-filters';

/** Entries of OpenAI Whisper's assets/mel_filters.npz `mel_80` (librosa.filters.mel(16000, 400, 80)). */
const WHISPER_MEL_80: Array<[row: number, bin: number, value: number]> = [
  [0, 1, 0.02486259490251541],
  [1, 1, 0.001990821911022067],
  [1, 2, 0.022871771827340126],
  [10, 10, 0.01990821771323681],
  [10, 11, 0.004954374860972166],
  [40, 42, 0.005411104764789343],
  [40, 43, 0.014735566452145576],
  [40, 44, 0.006518189795315266],
  [79, 186, 0.000366741674952209],
  [79, 192, 0.0031647118739783764],
  [79, 193, 0.003141313325613737],
  [79, 199, 0.0004487590049393475],
];

describe('Slaney mel filter bank', () => {
  it('maps Hz ↔ mel like librosa (linear below 1 kHz, logarithmic above)', () => {
    expect(hzToSlaneyMel(1000)).toBeCloseTo(15, 12);
    expect(hzToSlaneyMel(200)).toBeCloseTo(3, 12);
    expect(hzToSlaneyMel(6400)).toBeCloseTo(42, 12);
    for (const hz of [0, 123, 999, 1000, 2500, 8000]) expect(slaneyMelToHz(hzToSlaneyMel(hz))).toBeCloseTo(hz, 9);
  });

  it('matches Whisper’s shipped 80 × 201 matrix for sr 16000, n_fft 400', () => {
    const bank = slaneyMelFilterBank(16_000, 400, 80);
    expect(bank.melCount).toBe(80);
    expect(bank.binCount).toBe(201);
    expect(bank.weights.length).toBe(80 * 201);
    for (const [row, bin, value] of WHISPER_MEL_80) expect(bank.weights[row * 201 + bin]).toBe(value);
    // The whole float32 matrix equals mel_filters.npz["mel_80"] bit for bit (its [0][0] is −0, here +0).
    const digest = createHash('sha256').update(new Uint8Array(bank.weights.buffer)).digest('hex');
    expect(digest).toBe('85818f156f7e189453901a515e4726d270d307f976e161cf9403e8caab405498');
    expect(bank.weights.filter((w) => w !== 0)).toHaveLength(391);
    const row0 = Array.from(bank.weights.subarray(0, 201));
    expect(row0.filter((w) => w !== 0)).toHaveLength(1);
    const row79 = Array.from(bank.weights.subarray(79 * 201, 80 * 201));
    expect(row79.findIndex((w) => w !== 0)).toBe(186);
    expect(row79[200]).toBe(0);
  });

  it('has non-negative triangles whose Slaney areas are equal (norm = 2 / bandwidth)', () => {
    const bank = slaneyMelFilterBank(16_000, 400, 80);
    expect(Math.min(...bank.weights)).toBeGreaterThanOrEqual(0);
    // Above ~1 kHz each triangle spans several 40 Hz bins, so its area × 40 Hz ≈ 1.
    for (const row of [30, 50, 70]) {
      const area = bank.weights.subarray(row * 201, (row + 1) * 201).reduce((a, b) => a + b, 0) * 40;
      expect(area).toBeGreaterThan(0.95);
      expect(area).toBeLessThan(1.05);
    }
  });

  it('builds the 128-band bank (large-v3) with the same shape rules', () => {
    const bank = slaneyMelFilterBank(16_000, 400, 128);
    expect(bank.weights.length).toBe(128 * 201);
    expect(bank.weights.some((w) => Number.isNaN(w))).toBe(false);
  });
});
