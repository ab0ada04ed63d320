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

/** Time between camera frames: a few per second while idle, fewer while the avatar speaks (the CPU is busy with TTS and the face). */
export const VISION_INTERVAL_MS = { idle: 350, speaking: 1000 } as const;

/**
 * The wait before the next frame: the state's base interval, and never less than twice the last
 * detection so that the loop takes at most about half a core on a slow machine.
 */
export function nextFrameDelayMs(speaking: boolean, lastDetectMs: number): number {
  const base = speaking ? VISION_INTERVAL_MS.speaking : VISION_INTERVAL_MS.idle;
  return Math.max(base, 2 * lastDetectMs) - lastDetectMs;
}
