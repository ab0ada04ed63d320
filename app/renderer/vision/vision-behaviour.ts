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
 * A raised open palm while the avatar speaks stops it, like speech over it: after
 * `PALM_STOP_RESULTS` results in a row show the palm during the same reply, once per reply.
 */
export class PalmStop {
  private streak = 0;
  private streakTurnId: string | null = null;
  private stoppedTurnId: string | null = null;

  /** One perception result; true when the reply `speakingTurnId` (null: the avatar is silent) should stop now. */
  update(openPalm: boolean, speakingTurnId: string | null): boolean {
    if (!openPalm || speakingTurnId === null) {
      this.streak = 0;
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
 * Time between camera frames: a few per second while idle, fewer during a reply (the CPU is busy
 * generating, speaking and animating), and the share of time spent detecting: at most half while
 * idle, a quarter during a reply, however slow the machine.
 */
export const VISION_PACE = { idle: { minIntervalMs: 350, maxBusyShare: 0.5 }, reply: { minIntervalMs: 1500, maxBusyShare: 0.25 } } as const;

/** The wait before the next frame, after a detection that took `lastDetectMs`. */
export function nextFrameDelayMs(inReply: boolean, lastDetectMs: number): number {
  const pace = inReply ? VISION_PACE.reply : VISION_PACE.idle;
  return Math.max(pace.minIntervalMs, lastDetectMs / pace.maxBusyShare) - lastDetectMs;
}
