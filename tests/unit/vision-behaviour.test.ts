import { describe, expect, it } from 'vitest';
import { IdleMotion, type LookAt } from '../../app/renderer/avatar/idle-motion';
import {
  EYE_CONTACT_LIMITS,
  eyeContactTarget,
  nextFrameDelayMs,
  PALM_STOP_RESULTS,
  PalmStop,
  PresenceTracker,
  swings,
  VISION_PACE,
  WAVE,
  WaveRecognizer,
  type WaveVerdict,
} from '../../app/renderer/vision/vision-behaviour';

/** Mean pose over `seconds` of 30 fps frames (the idle drift and saccades average out). */
function meanPose(motion: IdleMotion, lookAt: LookAt | null, seconds: number, state: 'idle' | 'thinking' = 'idle') {
  let headYaw = 0;
  let gazeYaw = 0;
  let frames = 0;
  for (let t = 0; t < seconds; t += 1 / 30) {
    const { pose } = motion.update(t, 1 / 30, state, 0, 0, lookAt);
    if (t > seconds / 2) {
      headYaw += pose.headYaw;
      gazeYaw += pose.gazeYaw;
      frames += 1;
    }
  }
  return { headYaw: headYaw / frames, gazeYaw: gazeYaw / frames };
}

describe('eye contact', () => {
  it('looks towards the side of the image the face is on, within natural limits', () => {
    const left = eyeContactTarget({ x: 0.2, y: 0.5 });
    const right = eyeContactTarget({ x: 0.8, y: 0.5 });
    expect(left.yaw).toBeGreaterThan(0.1);
    expect(right.yaw).toBeLessThan(-0.1);
    expect(eyeContactTarget({ x: 0.5, y: 0.5 })).toEqual({ yaw: 0, pitch: 0 });
    expect(eyeContactTarget({ x: 0, y: 0 }).yaw).toBeLessThanOrEqual(EYE_CONTACT_LIMITS.yawRad);
    expect(eyeContactTarget({ x: 0.5, y: 0.1 }).pitch).toBeGreaterThan(0);
    expect(Math.abs(eyeContactTarget({ x: 1, y: 1 }).pitch)).toBeLessThanOrEqual(EYE_CONTACT_LIMITS.pitchRad);
  });

  it('turns head and eyes towards the person, smoothly, and not while thinking', () => {
    const target = eyeContactTarget({ x: 0.15, y: 0.5 });
    const looking = meanPose(new IdleMotion(), target, 6);
    const mirrored = meanPose(new IdleMotion(), { yaw: -target.yaw, pitch: 0 }, 6);
    const nobody = meanPose(new IdleMotion(), null, 6);
    expect(looking.headYaw).toBeGreaterThan(nobody.headYaw + 0.08);
    expect(mirrored.headYaw).toBeLessThan(nobody.headYaw - 0.08);
    expect(looking.gazeYaw).toBeGreaterThan(mirrored.gazeYaw + 0.05);

    // Smooth: the first frame after someone appears barely moves the head.
    const motion = new IdleMotion();
    const before = motion.update(1, 1 / 30, 'idle', 0, 0, null).pose.headYaw;
    const after = motion.update(1 + 1 / 30, 1 / 30, 'idle', 0, 0, target).pose.headYaw;
    expect(Math.abs(after - before)).toBeLessThan(0.02);

    // Thinking looks away (up and to the avatar's right) even with someone in view.
    const thinking = meanPose(new IdleMotion(), target, 6, 'thinking');
    expect(thinking.gazeYaw).toBeLessThan(0);
  });
});

describe('PresenceTracker', () => {
  it('reports an arrival after an absence of at least the minimum, once', () => {
    const tracker = new PresenceTracker(3000);
    expect(tracker.update(false, 0)).toBe(false);
    expect(tracker.update(false, 2000)).toBe(false);
    expect(tracker.update(true, 3500)).toBe(true);
    expect(tracker.update(true, 4000)).toBe(false);
    expect(tracker.update(true, 9000)).toBe(false);
  });

  it('does not count a short look away, nor someone already there when the camera starts', () => {
    const tracker = new PresenceTracker(3000);
    expect(tracker.update(true, 0)).toBe(false);
    expect(tracker.update(false, 1000)).toBe(false);
    expect(tracker.update(true, 2500)).toBe(false);
    expect(tracker.update(false, 3000)).toBe(false);
    expect(tracker.update(true, 6500)).toBe(true);
    tracker.reset();
    expect(tracker.update(true, 20_000)).toBe(false);
  });
});

describe('PalmStop', () => {
  it('stops a reply after consecutive raised-palm results, once per reply', () => {
    const palm = new PalmStop();
    const results = Array.from({ length: PALM_STOP_RESULTS }, () => palm.update(0.6, 't1'));
    expect(results.at(-1)).toBe(true);
    expect(results.slice(0, -1).every((stop) => !stop)).toBe(true);
    expect(palm.update(0.6, 't1')).toBe(false);
    for (let i = 0; i < PALM_STOP_RESULTS - 1; i++) expect(palm.update(0.6, 't2')).toBe(false);
    expect(palm.update(0.6, 't2')).toBe(true);
  });

  it('ignores a palm while the avatar is silent, and a palm seen in one frame only', () => {
    const palm = new PalmStop();
    for (let i = 0; i < 5; i++) expect(palm.update(0.6, null)).toBe(false);
    expect(PALM_STOP_RESULTS).toBeGreaterThan(1);
    expect(palm.update(0.6, 't1')).toBe(false);
    expect(palm.update(null, 't1')).toBe(false);
    expect(palm.update(0.6, 't1')).toBe(false);
  });

  it('does not stop for a palm moving side to side (a wave)', () => {
    const palm = new PalmStop();
    for (const x of [0.4, 0.6, 0.4, 0.6, 0.45, 0.62]) expect(palm.update(x, 't1')).toBe(false);
    // Held still again: it stops.
    expect(palm.update(0.63, 't1')).toBe(true);
  });
});

/** Feeds `xs` (null: no open palm) to a recogniser, one result every `stepMs`, from `fromMs`. */
function feed(wave: WaveRecognizer, xs: readonly (number | null)[], stepMs: number, fromMs = 0): WaveVerdict[] {
  return xs.map((x, index) => wave.update(x, fromMs + index * stepMs));
}

describe('WaveRecognizer', () => {
  it('counts swings of at least the minimum amplitude in alternating directions', () => {
    expect(swings([0.3, 0.5, 0.3, 0.5])).toBe(3);
    expect(swings([0.3, 0.32, 0.3, 0.33, 0.31])).toBe(0);
    // Drifting one way is one swing, however far.
    expect(swings([0.2, 0.3, 0.4, 0.5, 0.6])).toBe(1);
    expect(swings([0.5, 0.5 + WAVE.minSwing, 0.5, 0.5 + WAVE.minSwing])).toBe(3);
  });

  it('recognises an open palm moving side to side as one wave, answered once', () => {
    const wave = new WaveRecognizer();
    const verdicts = feed(wave, [0.4, 0.6, 0.4, 0.6, 0.4, 0.6, 0.4, 0.6], 500);
    expect(verdicts.map((verdict) => verdict.started)).toEqual([false, false, false, true, false, false, false, false]);
    expect(verdicts.slice(3).every((verdict) => verdict.waving)).toBe(true);
    expect(verdicts.slice(0, 3).some((verdict) => verdict.waving)).toBe(false);
  });

  it('does not take a still palm, a hand moving once, or a slow drift for a wave', () => {
    expect(feed(new WaveRecognizer(), [0.5, 0.51, 0.5, 0.52, 0.5, 0.51, 0.5], 500).some((verdict) => verdict.waving)).toBe(false);
    expect(feed(new WaveRecognizer(), [0.3, 0.4, 0.5, 0.6, 0.7, 0.6], 500).some((verdict) => verdict.waving)).toBe(false);
    // The same swings spread over more than the window are no wave.
    const slow = WAVE.windowMs / 2 + 1;
    expect(feed(new WaveRecognizer(), [0.4, 0.6, 0.4, 0.6, 0.4], slow).some((verdict) => verdict.waving)).toBe(false);
  });

  it('calls a palm still only while every position in the window lies within a swing', () => {
    const wave = new WaveRecognizer();
    expect(feed(wave, [0.6, 0.61, 0.6], 500).map((verdict) => verdict.still)).toEqual([true, true, true]);
    // A wave whose last two samples coincide is not still.
    const waving = feed(new WaveRecognizer(), [0.4, 0.6, 0.4, 0.6, 0.45, 0.46], 500);
    expect(waving.at(-1)).toMatchObject({ waving: true, still: false });
    expect(new WaveRecognizer().update(null, 0).still).toBe(false);
  });

  it('stretches its window to a slow loop (seconds a result on a busy CPU)', () => {
    const slowMs = 7000;
    expect(feed(new WaveRecognizer(), [0.4, 0.6, 0.4, 0.6], slowMs).some((verdict) => verdict.waving)).toBe(false);
    const wave = new WaveRecognizer();
    const verdicts = [0.4, 0.6, 0.4, 0.6].map((x, index) => wave.update(x, index * slowMs, slowMs));
    expect(verdicts.map((verdict) => verdict.started)).toEqual([false, false, false, true]);
  });

  it('answers a new wave after the hand has gone, not within the cool-down', () => {
    const wave = new WaveRecognizer();
    const swing = [0.4, 0.6, 0.4, 0.6];
    expect(feed(wave, swing, 500).filter((verdict) => verdict.started)).toHaveLength(1);
    // The hand goes for a moment and waves again at once: within the cool-down, not answered.
    const soon = 1500 + WAVE.maxGapMs + 500;
    expect(wave.update(null, soon - 100).started).toBe(false);
    expect(feed(wave, swing, 500, soon).filter((verdict) => verdict.started)).toHaveLength(0);
    // Later, after the hand went again: answered.
    const later = soon + WAVE.cooldownMs + WAVE.maxGapMs;
    expect(wave.update(null, later - 100).started).toBe(false);
    expect(feed(wave, swing, 500, later).filter((verdict) => verdict.started)).toHaveLength(1);
    // Waving on without a break is the same wave.
    expect(feed(wave, swing, 500, later + 2000).filter((verdict) => verdict.started)).toHaveLength(0);
  });
});

describe('frame rate', () => {
  it('looks a few times a second when idle, less during a reply, and at most half (a quarter) of the time on a slow machine', () => {
    expect(1000 / (nextFrameDelayMs(false, 50) + 50)).toBeGreaterThan(2);
    expect(nextFrameDelayMs(true, 50) + 50).toBe(VISION_PACE.reply.minIntervalMs);
    // A 3 s detection: the next frame waits as long again while idle (half the time busy), three times as long during a reply.
    expect(nextFrameDelayMs(false, 3000)).toBe(3000);
    expect(nextFrameDelayMs(true, 3000)).toBe(9000);
    // A raised palm in view: the next frame at once (to confirm a stop, or follow a wave).
    expect(nextFrameDelayMs(true, 3000, true)).toBe(0);
    expect(nextFrameDelayMs(false, 50, true)).toBe(VISION_PACE.idle.minIntervalMs - 50);
  });
});
