import type { AvatarState } from '../state/diagnostics';
import type { AvatarPose } from './avatar-rig';

const BLINK_SEC = 0.16;

export interface IdleFrame {
  pose: AvatarPose;
  blinkLeft: number;
  blinkRight: number;
  browInnerUp: number;
  smile: number;
}

function smoothTowards(current: number, target: number, rate: number, dtSec: number): number {
  return current + (target - current) * (1 - Math.exp(-rate * dtSec));
}

/**
 * Life when nobody is talking and while talking: blinks, breathing, small head drift, eye
 * saccades, a thinking look. Deterministic in time except for blink and saccade timing.
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

  update(timeSec: number, dtSec: number, state: AvatarState, mouthOpen: number): IdleFrame {
    if (timeSec >= this.nextBlinkSec) {
      this.blinkStartSec = timeSec;
      // Now and then a double blink.
      this.nextBlinkSec = timeSec + (Math.random() < 0.15 ? 0.35 : 2 + Math.random() * 3.5);
    }
    const sinceBlink = (timeSec - this.blinkStartSec) / BLINK_SEC;
    const blink = sinceBlink >= 0 && sinceBlink <= 1 ? Math.sin(Math.PI * sinceBlink) ** 0.7 : 0;

    if (timeSec >= this.nextSaccadeSec) {
      const thinking = state === 'thinking';
      this.gazeTarget = thinking
        ? { yaw: 0.18 + Math.random() * 0.1, pitch: 0.16 + Math.random() * 0.06 }
        : { yaw: (Math.random() - 0.5) * 0.22, pitch: (Math.random() - 0.5) * 0.1 };
      this.nextSaccadeSec = timeSec + (thinking ? 1.2 : 0.6 + Math.random() * 2.2);
    }
    this.gaze.yaw = smoothTowards(this.gaze.yaw, this.gazeTarget.yaw, 30, dtSec);
    this.gaze.pitch = smoothTowards(this.gaze.pitch, this.gazeTarget.pitch, 30, dtSec);

    this.brow = smoothTowards(this.brow, state === 'thinking' ? 0.55 : state === 'listening' ? 0.3 : 0, 4, dtSec);
    this.smile = smoothTowards(this.smile, state === 'speaking' ? 0.2 : 0.14, 2, dtSec);
    // Speech brings small nods with the jaw.
    this.nod = smoothTowards(this.nod, state === 'speaking' ? mouthOpen : 0, 6, dtSec);

    const breath = 0.5 + 0.5 * Math.sin((timeSec * 2 * Math.PI) / 4.2);
    const pose: AvatarPose = {
      headYaw: 0.05 * Math.sin(timeSec * 0.31) + 0.025 * Math.sin(timeSec * 0.73 + 1) + (state === 'thinking' ? 0.06 : 0),
      headPitch: 0.025 * Math.sin(timeSec * 0.43 + 2) + 0.015 * (breath - 0.5) + 0.04 * this.nod - (state === 'thinking' ? 0.04 : 0),
      headRoll: 0.02 * Math.sin(timeSec * 0.27 + 0.5) + (state === 'thinking' ? 0.04 : 0),
      breath,
      gazeYaw: this.gaze.yaw,
      gazePitch: this.gaze.pitch,
    };
    return { pose, blinkLeft: blink, blinkRight: blink, browInnerUp: this.brow, smile: this.smile };
  }
}
