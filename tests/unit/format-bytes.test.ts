import { describe, expect, it } from 'vitest';
import { formatMegabytes, formatMegabytesPerSec } from '../../app/shared/format/bytes';

describe('byte formatting', () => {
  it('gives decimal megabytes with one decimal unless told', () => {
    expect(formatMegabytes(12_345_678)).toBe('12.3 MB');
    expect(formatMegabytes(0)).toBe('0.0 MB');
    expect(formatMegabytes(1_234_567_890, 0)).toBe('1235 MB');
  });

  it('gives transfer rates in MB/s', () => {
    expect(formatMegabytesPerSec(1_500_000)).toBe('1.5 MB/s');
  });
});
