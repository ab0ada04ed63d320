import { describe, expect, it } from 'vitest';
import { float32ToHalfBits, fromHalfArray, halfBitsToFloat32, toHalfArray } from '../../app/engine/models/ct2-whisper/half-float';

describe('binary16 conversion', () => {
  it('encodes known values', () => {
    expect(float32ToHalfBits(0)).toBe(0x0000);
    expect(float32ToHalfBits(-0)).toBe(0x8000);
    expect(float32ToHalfBits(1)).toBe(0x3c00);
    expect(float32ToHalfBits(-2)).toBe(0xc000);
    expect(float32ToHalfBits(0.5)).toBe(0x3800);
    expect(float32ToHalfBits(65504)).toBe(0x7bff);
    expect(float32ToHalfBits(65520)).toBe(0x7c00);
    expect(float32ToHalfBits(1e9)).toBe(0x7c00);
    expect(float32ToHalfBits(-Infinity)).toBe(0xfc00);
    expect(float32ToHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToHalfBits(NaN) & 0x3ff).not.toBe(0);
    expect(float32ToHalfBits(2 ** -24)).toBe(0x0001);
    expect(float32ToHalfBits(2 ** -14)).toBe(0x0400);
    expect(float32ToHalfBits(2 ** -26)).toBe(0x0000);
  });

  it('rounds to nearest, ties to even', () => {
    expect(float32ToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(float32ToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(float32ToHalfBits(2 ** -25)).toBe(0x0000); // subnormal tie → even (zero)
    expect(float32ToHalfBits(3 * 2 ** -25)).toBe(0x0002);
    expect(float32ToHalfBits(65519)).toBe(0x7bff);
  });

  it('round-trips every finite binary16 pattern', () => {
    const failures: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) !== 0x7c00 && float32ToHalfBits(halfBitsToFloat32(bits)) !== bits) failures.push(bits);
    }
    expect(failures).toEqual([]);
  });

  it('converts arrays both ways', () => {
    const values = Float32Array.from([0.1, -3.25, 1000, 6e-8]);
    const back = fromHalfArray(toHalfArray(values));
    values.forEach((v, i) => expect(Math.abs((back[i] ?? NaN) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25));
    expect(halfBitsToFloat32(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfBitsToFloat32(0x7e00))).toBe(true);
  });
});
