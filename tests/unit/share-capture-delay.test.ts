import { describe, expect, it } from 'vitest';
import { AUDIO_PATH_LEAD_MS, audioHoldMs, frameCaptureDelayMs, MAX_AUDIO_HOLD_MS, RunningQuantile } from '../../app/renderer/share/capture-delay';
import { frameloopHeld, holdFrameloop, registerFrameloop, type Frameloop } from '../../app/renderer/avatar/frameloop-control';

describe('frameCaptureDelayMs', () => {
  it('is the time since the frame was drawn, its timestamp counting from the first request', () => {
    // First request at 1000 ms; a frame grabbed 2.5 s later (2_500_000 µs) leaves the track at 3700 ms.
    expect(frameCaptureDelayMs(3700, 1000, 2_500_000)).toBe(200);
    expect(frameCaptureDelayMs(1040, 1000, 0)).toBe(40);
  });
});

describe('RunningQuantile', () => {
  it('is null before a sample and the median of the last samples after', () => {
    const median = new RunningQuantile(3);
    expect(median.value).toBeNull();
    median.push(100);
    expect(median.value).toBe(100);
    median.push(300);
    expect(median.value).toBe(200);
    median.push(120);
    expect(median.value).toBe(120);
    // The oldest (100) leaves the window: 300, 120, 500.
    median.push(500);
    expect(median.value).toBe(300);
    expect(median.count).toBe(3);
  });

  it('ignores values that are not finite and refuses a window that is not a positive integer', () => {
    const median = new RunningQuantile(2);
    median.push(Number.NaN);
    median.push(Number.POSITIVE_INFINITY);
    expect(median.value).toBeNull();
    expect(() => new RunningQuantile(0)).toThrow(RangeError);
    expect(() => new RunningQuantile(1.5)).toThrow(/positive integer/);
    expect(() => new RunningQuantile(4, 1.5)).toThrow(/0\.\.1/);
  });

  it('gives the lower quartile of the window, linear between samples', () => {
    const quartile = new RunningQuantile(5, 0.25);
    for (const value of [300, 100, 500, 200, 400]) quartile.push(value);
    expect(quartile.value).toBe(200);
    quartile.push(150);
    // Window 100, 500, 200, 400, 150 -> sorted 100 150 200 400 500.
    expect(quartile.value).toBe(150);
    const between = new RunningQuantile(2, 0.25);
    between.push(100);
    between.push(200);
    expect(between.value).toBe(125);
  });
});

describe('audioHoldMs', () => {
  it('holds the audio by the video delay less the audio path\'s lead, never negative and never beyond the cap', () => {
    expect(audioHoldMs(null)).toBe(0);
    expect(audioHoldMs(Number.NaN)).toBe(0);
    expect(audioHoldMs(-20)).toBe(0);
    expect(audioHoldMs(180)).toBe(180 - AUDIO_PATH_LEAD_MS);
    expect(audioHoldMs(AUDIO_PATH_LEAD_MS - 10)).toBe(0);
    expect(audioHoldMs(5000)).toBe(MAX_AUDIO_HOLD_MS);
  });

  it('takes a given lead instead of the default (0: the whole delay)', () => {
    expect(audioHoldMs(180, 0)).toBe(180);
    expect(audioHoldMs(180, 30)).toBe(150);
    expect(audioHoldMs(20, 30)).toBe(0);
  });
});

describe('frameloop control', () => {
  it('stops the scene loop while held and gives it back on the last release, also to a scene registered later', () => {
    const seen: Frameloop[] = [];
    const unregister = registerFrameloop((mode) => seen.push(mode));
    expect(seen).toEqual(['always']);
    const release = holdFrameloop();
    const releaseOther = holdFrameloop();
    expect(frameloopHeld()).toBe(true);
    release();
    release();
    expect(seen.at(-1)).toBe('never');
    releaseOther();
    expect(seen.at(-1)).toBe('always');
    expect(frameloopHeld()).toBe(false);
    unregister();

    const releaseEarly = holdFrameloop();
    const later: Frameloop[] = [];
    const unregisterLater = registerFrameloop((mode) => later.push(mode));
    expect(later).toEqual(['never']);
    releaseEarly();
    expect(later).toEqual(['never', 'always']);
    unregisterLater();
    // Unregistered: a new hold reaches nobody.
    holdFrameloop()();
    expect(later).toEqual(['never', 'always']);
  });
});
