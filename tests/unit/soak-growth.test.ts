import { describe, expect, it } from 'vitest';
import { growthPerHour, inspectorUrls, slope } from '../../bench/process-probes';

/** The soak's growth figures: a least-squares slope after the warm-up, not first-vs-last. */
describe('soak growth fit', () => {
  it('fits the slope through noisy samples, per hour, leaving out the warm-up', () => {
    // 10 MB/h with ±1 MB alternating noise, after a warm-up that jumps by 200 MB.
    const samples = Array.from({ length: 40 }, (_, i) => {
      const atMs = i * 60_000;
      const warm = atMs < 5 * 60_000 ? -200 : 0;
      return { atMs, value: 100 + (10 * atMs) / 3_600_000 + (i % 2 === 0 ? 1 : -1) + warm };
    });
    expect(growthPerHour(samples, 5 * 60_000)).toBeCloseTo(10, 0);
    // First-vs-last would see the warm-up jump; the fit over everything is pulled far off too.
    expect(Math.abs(growthPerHour(samples, 0) - 10)).toBeGreaterThan(50);
  });

  it('is NaN without two distinct times', () => {
    expect(slope([])).toBeNaN();
    expect(slope([{ x: 1, y: 2 }, { x: 1, y: 3 }])).toBeNaN();
  });

  it('reads the inspector addresses Node prints', () => {
    const output = 'Debugger listening on ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab\nFor help, see: https://nodejs.org/en/docs/inspector\n';
    expect(inspectorUrls(output)).toEqual(['ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab']);
  });
});
