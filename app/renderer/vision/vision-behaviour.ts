import type { MainFace } from '../../shared/vision.contract';

/**
 * The avatar's reactions to what the camera sees, as small pure rules (unit-tested): where to look,
 * when someone has arrived, when a raised palm stops the reply, how often to look.
 */

/** How far the avatar turns towards a face at the image's edge (radians): natural limits. */
export const EYE_CONTACT_LIMITS = { yawRad: 0.32, pitchRad: 0.14 } as const;

/** Where the avatar looks to meet a face: yaw positive towards the avatar's left, pitch positive up. */
export interface LookTarget {
  yaw: number;
  pitch: number;
}

/**
 * The look that meets the main face. The camera looks out of the screen as the avatar does, so a
 * face on the image's left is on the avatar's left (positive yaw); a face high in the image is
 * above the avatar's eye line (positive pitch).
 */
export function eyeContactTarget(face: Pick<MainFace, 'x' | 'y'>): LookTarget {
  const clamp = (value: number, limit: number): number => Math.max(-limit, Math.min(limit, value));
  return {
    yaw: clamp((0.5 - face.x) * 2 * EYE_CONTACT_LIMITS.yawRad, EYE_CONTACT_LIMITS.yawRad),
    pitch: clamp((0.5 - face.y) * 2 * EYE_CONTACT_LIMITS.pitchRad, EYE_CONTACT_LIMITS.pitchRad),
  };
}

/**
 * Arrival after an absence: someone is seen after nobody was, for at least `minAbsenceMs` (the
 * camera's first empty frames count as an absence from then on). A face seen from the very first
 * frame is no arrival: the person turned the camera on and is already being talked to.
 */
export class PresenceTracker {
  private absentSinceMs: number | null = null;
  private seen = false;
  private present = false;

  constructor(private readonly minAbsenceMs: number) {}

  /** One perception result; true when it is an arrival. */
  update(present: boolean, atMs: number): boolean {
    const wasPresent = this.present;
    this.present = present;
    if (!present) {
      if (wasPresent || this.absentSinceMs === null) this.absentSinceMs = atMs;
      this.seen = true;
      return false;
    }
    const arrived = !wasPresent && this.seen && this.absentSinceMs !== null && atMs - this.absentSinceMs >= this.minAbsenceMs;
    this.seen = true;
    this.absentSinceMs = null;
    return arrived;
  }

  /** The camera went off: its next start begins anew. */
  reset(): void {
    this.absentSinceMs = null;
    this.seen = false;
    this.present = false;
  }
}

/** Consecutive results with a raised open palm before the avatar stops (one stray frame does not). */
export const PALM_STOP_RESULTS = 2;

/**
 * A raised open palm held up while the avatar speaks stops it, like speech over it: after
 * `PALM_STOP_RESULTS` results in a row show the palm during the same reply, held still (a palm
 * that moves side to side by a wave's swing is a wave, which does not interrupt), once per reply.
 * `palmX`: the raised open palm's centre in the image (0..1), null when none is seen.
 */
export class PalmStop {
  private streak = 0;
  private streakTurnId: string | null = null;
  private stoppedTurnId: string | null = null;
  private lastX: number | null = null;

  /** One perception result; true when the reply `speakingTurnId` (null: the avatar is silent) should stop now. */
  update(palmX: number | null, speakingTurnId: string | null): boolean {
    const moved = palmX !== null && this.lastX !== null && Math.abs(palmX - this.lastX) >= WAVE.minSwing;
    this.lastX = palmX;
    if (palmX === null || speakingTurnId === null || moved) {
      // A moving palm starts a new streak from this result.
      this.streak = palmX !== null && speakingTurnId !== null ? 1 : 0;
      this.streakTurnId = speakingTurnId;
      return false;
    }
    // Only palms seen during this reply count towards stopping it.
    if (speakingTurnId !== this.streakTurnId) this.streak = 0;
    this.streakTurnId = speakingTurnId;
    this.streak += 1;
    if (this.streak < PALM_STOP_RESULTS || this.stoppedTurnId === speakingTurnId) return false;
    this.stoppedTurnId = speakingTurnId;
    return true;
  }
}

/**
 * What makes a wave: an open palm moving side to side, swinging at least `minSwing` of the image's
 * width each way, `minSwings` swings (two reversals: there, back, there again) within `windowMs`;
 * a gap of `maxGapMs` without an open palm ends it. The window is wide because this CPU analyses a
 * frame or two a second: a wave is seen as a few samples of the hand's position, not its path. On
 * a slower loop (a busy CPU: seconds a frame) the window and the gap stretch to `windowResults`
 * and 2.5 results.
 * After a wave, the next one counts only once the hand has gone (`maxGapMs`) and `cooldownMs` has passed.
 */
export const WAVE = { minSwing: 0.06, minSwings: 3, windowMs: 8_000, windowResults: 5, maxGapMs: 2_500, cooldownMs: 15_000 } as const;

/** The recogniser's verdict on one result. */
export interface WaveVerdict {
  /** The hand is waving now (the `wave` gesture). */
  waving: boolean;
  /** A new wave: answer it (once per wave, not within the cool-down of the last one). */
  started: boolean;
  /**
   * The open palm is held still: every position in the window lies within `WAVE.minSwing` (a palm
   * that was waving a moment ago is not, even if two samples of the wave happen to coincide).
   */
  still: boolean;
}

/**
 * Recognises a wave from successive perception results: tracks the open palm's x, counts swings
 * (moves of at least `WAVE.minSwing` in alternating directions) within the window.
 */
export class WaveRecognizer {
  private samples: { atMs: number; x: number }[] = [];
  private lastPalmAtMs = -Infinity;
  /** The current wave was answered (or fell in the cool-down): no new one until the hand goes. */
  private answered = false;
  private lastStartMs = -Infinity;

  /**
   * One result: the open palm's x (0..1), null when no open palm is seen; `atMs` in result order;
   * `intervalMs`: the loop's time between results lately (0: unknown).
   */
  update(palmX: number | null, atMs: number, intervalMs = 0): WaveVerdict {
    const windowMs = Math.max(WAVE.windowMs, WAVE.windowResults * intervalMs);
    const gapMs = Math.max(WAVE.maxGapMs, 2.5 * intervalMs);
    if (atMs - this.lastPalmAtMs > gapMs) {
      this.samples = [];
      this.answered = false;
    }
    if (palmX === null) return { waving: false, started: false, still: false };
    this.lastPalmAtMs = atMs;
    this.samples.push({ atMs, x: palmX });
    this.samples = this.samples.filter((sample) => atMs - sample.atMs <= windowMs);
    const xs = this.samples.map((sample) => sample.x);
    const waving = swings(xs) >= WAVE.minSwings;
    const still = Math.max(...xs) - Math.min(...xs) < WAVE.minSwing;
    if (!waving || this.answered) return { waving, started: false, still };
    this.answered = true;
    if (atMs - this.lastStartMs < WAVE.cooldownMs) return { waving, started: false, still };
    this.lastStartMs = atMs;
    return { waving, started: true, still };
  }

  /** The camera went off. */
  reset(): void {
    this.samples = [];
    this.lastPalmAtMs = -Infinity;
    this.answered = false;
  }
}

/** Swings of at least `WAVE.minSwing` in alternating directions in a sequence of positions. */
export function swings(xs: readonly number[]): number {
  let count = 0;
  let direction = 0;
  const anchor = xs[0] ?? 0;
  let extreme = anchor;
  for (const x of xs.slice(1)) {
    if (direction === 0) {
      if (Math.abs(x - anchor) >= WAVE.minSwing) {
        direction = Math.sign(x - anchor);
        extreme = x;
        count = 1;
      }
      continue;
    }
    if ((x - extreme) * direction > 0) extreme = x;
    else if (Math.abs(x - extreme) >= WAVE.minSwing) {
      direction = -direction;
      extreme = x;
      count += 1;
    }
  }
  return count;
}

/**
 * Time between camera frames: a few per second while idle, fewer during a reply (the CPU is busy
 * generating, speaking and animating), and the share of time spent detecting: at most half while
 * idle, a quarter during a reply, however slow the machine.
 */
export const VISION_PACE = { idle: { minIntervalMs: 350, maxBusyShare: 0.5 }, reply: { minIntervalMs: 1500, maxBusyShare: 0.25 } } as const;

/**
 * The wait before the next frame, after a detection that took `lastDetectMs`. `handUp`: a raised
 * open palm is in view: the next frame follows at the idle pace's shortest interval, whatever the
 * CPU share, to confirm a palm that stops a reply, or follow a wave, within a few results.
 */
export function nextFrameDelayMs(inReply: boolean, lastDetectMs: number, handUp = false): number {
  if (handUp) return Math.max(0, VISION_PACE.idle.minIntervalMs - lastDetectMs);
  const pace = inReply ? VISION_PACE.reply : VISION_PACE.idle;
  return Math.max(pace.minIntervalMs, lastDetectMs / pace.maxBusyShare) - lastDetectMs;
}
