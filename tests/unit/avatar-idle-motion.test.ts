import { describe, expect, it } from 'vitest';
import type { AvatarState } from '../../app/renderer/state/diagnostics';
import { IdleMotion } from '../../app/renderer/avatar/idle-motion';

/** Runs `seconds` of frames at 30 fps in one state and returns the last frame. */
function settle(motion: IdleMotion, state: AvatarState, seconds: number, voiceLevel = 0, fromSec = 0) {
  let frame = motion.update(fromSec, 1 / 30, state, 0, voiceLevel);
  for (let t = fromSec + 1 / 30; t < fromSec + seconds; t += 1 / 30) frame = motion.update(t, 1 / 30, state, 0, voiceLevel);
  return frame;
}

describe('IdleMotion', () => {
  it('thinks visibly: eyes up, head tilted, brows raised, the thought sign shown', () => {
    const idle = settle(new IdleMotion(), 'idle', 2);
    const thinking = settle(new IdleMotion(), 'thinking', 2);
    expect(thinking.thinking).toBeGreaterThan(0.95);
    expect(idle.thinking).toBe(0);
    expect(thinking.pose.gazePitch).toBeGreaterThan(0.25);
    expect(Math.abs(thinking.pose.headRoll)).toBeGreaterThan(0.08);
    expect(thinking.browInnerUp).toBeGreaterThan(0.5);
    expect(idle.browInnerUp).toBeLessThan(0.05);
  });

  it('listens attentively, more so to a louder voice', () => {
    const quiet = settle(new IdleMotion(), 'listening', 1.5, 0);
    const loud = settle(new IdleMotion(), 'listening', 1.5, 0.9);
    expect(quiet.browInnerUp).toBeGreaterThan(0.2);
    expect(loud.browInnerUp).toBeGreaterThan(quiet.browInnerUp + 0.2);
  });

  it('changes state smoothly (no jump in one frame)', () => {
    const motion = new IdleMotion();
    const before = settle(motion, 'thinking', 2);
    const after = motion.update(2, 1 / 30, 'speaking', 0);
    expect(before.pose.headRoll - after.pose.headRoll).toBeLessThan(0.03);
    expect(after.thinking).toBeGreaterThan(0.8);
  });

  it('blinks every few seconds, on a schedule that can be sampled between frames', () => {
    const motion = new IdleMotion();
    let closed = 0;
    for (let t = 0; t < 12; t += 0.005) {
      if (Math.round(t * 200) % 10 === 0) motion.update(t, 0.05, 'idle', 0);
      if (motion.blinkAt(t) > 0.9) closed += 0.005;
    }
    // Blinks of 160 ms every 0.35–5.5 s: some closure, never most of the time.
    expect(closed).toBeGreaterThan(0.05);
    expect(closed).toBeLessThan(2);
  });
});
