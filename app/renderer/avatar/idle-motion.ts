import type { AvatarState } from '../state/diagnostics';
import type { AvatarPose } from './avatar-rig';

const BLINK_SEC = 0.16;
/** Of a look towards someone, the head turns this share and the eyes the rest (people turn their head less than their eyes). */
const HEAD_SHARE = 0.6;

/** Someone to look at (the camera's main face): yaw positive towards the avatar's left, pitch positive up, radians. */
export interface LookAt {
  yaw: number;
  pitch: number;
}

/** One frame of idle life; blinks come from `blinkAt` (sampled on any clock). */
export interface IdleFrame {
  pose: AvatarPose;
  browInnerUp: number;
  smile: number;
  /** How far into the thinking look the face is, 0..1 (drives the thought indicator). */
  thinking: number;
}

function smoothTowards(current: number, target: number, rate: number, dtSec: number): number {
  return current + (target - current) * (1 - Math.exp(-rate * dtSec));
}

/**
 * Life when nobody is talking and while talking: blinks, breathing, small head drift, eye
 * saccades; an attentive look that follows the voice level while listening; a thinking look
 * (eyes up and aside, head tilted, brows raised) while waiting for the first audio. States blend
 * smoothly. Deterministic in time except for blink and saccade timing.
 */
export class IdleMotion {
  private nextBlinkSec = 1.5;
  private blinkStartSec = -1;
  private nextSaccadeSec = 0.8;
  private gazeTarget = { yaw: 0, pitch: 0 };
  private gaze = { yaw: 0, pitch: 0 };
  private brow = 0;
  private smile = 0.12;
  private nod = 0;
  private thinking = 0;
  private listening = 0;
  private voice = 0;
  private lastState: AvatarState = 'idle';
  /** How much the avatar attends to someone it sees (0 none … 1 eye contact) and where they are. */
  private contact = 0;
  private look = { yaw: 0, pitch: 0 };

  /** `voiceLevel`: the user's microphone level 0..1 (the avatar reacts while listening). */
  /**
   * Eyelid closure at `timeSec` (0 open … 1 closed). Blinks are scheduled in time, not per frame,
   * so the face can be sampled between frames (lip-sync probe) and agrees with the frames.
   */
  blinkAt(timeSec: number): number {
    const startSec = timeSec >= this.nextBlinkSec ? this.nextBlinkSec : this.blinkStartSec;
    const phase = (timeSec - startSec) / BLINK_SEC;
    return phase >= 0 && phase <= 1 ? Math.sin(Math.PI * phase) ** 0.7 : 0;
  }

  /** `lookAt`: someone the camera sees; eyes and head turn towards them (eye contact), except while thinking. */
  update(timeSec: number, dtSec: number, state: AvatarState, mouthOpen: number, voiceLevel = 0, lookAt: LookAt | null = null): IdleFrame {
    while (timeSec >= this.nextBlinkSec + BLINK_SEC) {
      this.blinkStartSec = this.nextBlinkSec;
      // Now and then a double blink.
      this.nextBlinkSec += Math.random() < 0.15 ? 0.35 : 2 + Math.random() * 3.5;
    }

    const thinking = state === 'thinking';
    // A new state gets a new glance at once (thinking looks up and aside straight away).
    if (timeSec >= this.nextSaccadeSec || state !== this.lastState) {
      this.gazeTarget = thinking
        ? // Up and towards the thought bubble (the avatar's right).
          { yaw: -0.3 - Math.random() * 0.08, pitch: 0.3 + Math.random() * 0.06 }
        : state === 'listening'
          ? { yaw: (Math.random() - 0.5) * 0.08, pitch: (Math.random() - 0.5) * 0.04 }
          : { yaw: (Math.random() - 0.5) * 0.22, pitch: (Math.random() - 0.5) * 0.1 };
      this.nextSaccadeSec = timeSec + (thinking ? 1.2 : 0.6 + Math.random() * 2.2);
    }
    this.lastState = state;
    // Eye contact: saccades become small glances around the person; the thinking look still looks away.
    this.contact = smoothTowards(this.contact, lookAt && !thinking ? 1 : 0, 3, dtSec);
    if (lookAt) {
      this.look.yaw = smoothTowards(this.look.yaw, lookAt.yaw, 4, dtSec);
      this.look.pitch = smoothTowards(this.look.pitch, lookAt.pitch, 4, dtSec);
    }
    const glance = thinking ? 1 : 1 - 0.7 * this.contact;
    const eyeYaw = this.gazeTarget.yaw * glance + this.contact * (1 - HEAD_SHARE) * this.look.yaw;
    const eyePitch = this.gazeTarget.pitch * glance + this.contact * (1 - HEAD_SHARE) * this.look.pitch;
    this.gaze.yaw = smoothTowards(this.gaze.yaw, eyeYaw, 30, dtSec);
    this.gaze.pitch = smoothTowards(this.gaze.pitch, eyePitch, 30, dtSec);

    this.thinking = smoothTowards(this.thinking, thinking ? 1 : 0, 5, dtSec);
    this.listening = smoothTowards(this.listening, state === 'listening' ? 1 : 0, 5, dtSec);
    this.voice = smoothTowards(this.voice, state === 'listening' ? voiceLevel : 0, 12, dtSec);
    this.brow = smoothTowards(this.brow, 0.6 * this.thinking + this.listening * (0.25 + 0.35 * this.voice), 6, dtSec);
    this.smile = smoothTowards(this.smile, state === 'speaking' ? 0.2 : 0.14, 2, dtSec);
    // Speech brings small nods with the jaw; listening, small nods with the voice.
    this.nod = smoothTowards(this.nod, state === 'speaking' ? mouthOpen : this.voice * 0.6, 6, dtSec);

    const breath = 0.5 + 0.5 * Math.sin((timeSec * 2 * Math.PI) / 4.2);
    const pose: AvatarPose = {
      headYaw: 0.05 * Math.sin(timeSec * 0.31) + 0.025 * Math.sin(timeSec * 0.73 + 1) - 0.1 * this.thinking + this.contact * HEAD_SHARE * this.look.yaw,
      headPitch:
        0.025 * Math.sin(timeSec * 0.43 + 2) +
        0.015 * (breath - 0.5) +
        0.04 * this.nod -
        0.09 * this.thinking +
        0.03 * this.listening -
        // Head pitch is positive downwards (a nod), look pitch upwards.
        this.contact * HEAD_SHARE * this.look.pitch,
      headRoll: 0.02 * Math.sin(timeSec * 0.27 + 0.5) - 0.12 * this.thinking - 0.04 * this.listening,
      breath,
      gazeYaw: this.gaze.yaw,
      gazePitch: this.gaze.pitch,
    };
    return { pose, browInnerUp: this.brow, smile: this.smile, thinking: this.thinking };
  }
}
