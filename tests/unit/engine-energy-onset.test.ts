import { describe, expect, it } from 'vitest';
import { EnergyOnset, ENERGY_ONSET_MIN_DB, ENERGY_ONSET_RISE_DB, frameDb } from '../../app/engine/conversation/energy-onset';

/** The loudness onset that lowers the avatar's voice before the VAD has heard a frame. */

const FRAME = 320;

/** A 20 ms frame of a 200 Hz tone whose RMS is `db` dBFS. */
function tone(db: number): Float32Array {
  const amplitude = Math.SQRT2 * 10 ** (db / 20);
  return Float32Array.from({ length: FRAME }, (_, i) => amplitude * Math.sin((2 * Math.PI * 200 * i) / 16000));
}

function feed(onset: EnergyOnset, frames: Float32Array[], startMs = 0): boolean[] {
  return frames.map((pcm, index) => onset.push(pcm, startMs + index * 20));
}

describe('energy onset', () => {
  it('measures a frame in dBFS, digital silence at the floor', () => {
    expect(frameDb(tone(-30))).toBeCloseTo(-30, 1);
    expect(frameDb(new Float32Array(FRAME))).toBe(-100);
  });

  it('needs some background first: a stream that starts loud has no rise', () => {
    expect(feed(new EnergyOnset(), [tone(-30), tone(-30), tone(-30)]).some(Boolean)).toBe(false);
  });

  it('reports a rise above quiet background once, at its first frame', () => {
    const onset = new EnergyOnset();
    const rises = feed(onset, [...Array.from({ length: 20 }, () => tone(-70)), tone(-30), tone(-28), tone(-30)]);
    expect(rises.indexOf(true)).toBe(20);
    expect(rises.filter(Boolean)).toHaveLength(1);
  });

  it('ignores sound below the absolute bar, and sound not far enough above a loud background', () => {
    const quiet = new EnergyOnset();
    expect(feed(quiet, [...Array.from({ length: 20 }, () => tone(-90)), tone(ENERGY_ONSET_MIN_DB - 3)]).some(Boolean)).toBe(false);
    const noisy = new EnergyOnset();
    const background = -40;
    expect(feed(noisy, [...Array.from({ length: 20 }, () => tone(background)), tone(background + ENERGY_ONSET_RISE_DB - 3)]).some(Boolean)).toBe(false);
    expect(noisy.push(tone(background + ENERGY_ONSET_RISE_DB + 3), 420)).toBe(true);
  });

  it('rests for a while after onsets keep being withdrawn, then listens again', () => {
    const onset = new EnergyOnset();
    let ms = 0;
    const burst = (): boolean => {
      const rises = feed(onset, [...Array.from({ length: 10 }, () => tone(-80)), tone(-25)], ms);
      ms += 11 * 20;
      return rises.at(-1)!;
    };
    expect(burst()).toBe(true);
    onset.withdrawn(ms);
    expect(burst()).toBe(true);
    onset.withdrawn(ms);
    // Two withdrawn within 10 s: the next rises are ignored…
    expect(burst()).toBe(false);
    // …until the rest is over.
    ms += 10_000;
    expect(burst()).toBe(true);
  });

  it('starts over after a reset', () => {
    const onset = new EnergyOnset();
    const quietThenLoud = [...Array.from({ length: 5 }, () => tone(-80)), tone(-25)];
    feed(onset, quietThenLoud);
    onset.withdrawn(100);
    onset.withdrawn(120);
    onset.reset();
    expect(feed(onset, quietThenLoud).indexOf(true)).toBe(5);
  });
});
