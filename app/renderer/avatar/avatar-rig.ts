import type { AvatarFormat } from '../../shared/lipsync';

/** Head, body and eye pose of one frame (radians; breath 0 exhaled … 1 inhaled). */
export interface AvatarPose {
  headYaw: number;
  headPitch: number;
  headRoll: number;
  breath: number;
  gazeYaw: number;
  gazePitch: number;
}

/** Where an avatar came from: the built-in one, or a file the user loaded. */
export type AvatarKind = 'default' | 'vrm1' | 'vrm0' | 'gltf';

/** What the diagnostics and the UI say about the current avatar. */
export interface AvatarInfo {
  kind: AvatarKind;
  name: string;
  /** Which shared morph table drives its mouth (app/shared/lipsync/morph-tables.ts). */
  format: AvatarFormat;
}

/** What the animation loop drives: set every weight and the pose once per frame. */
export interface AvatarRig {
  readonly info: AvatarInfo;
  /** Every weight name `apply` understands (the format's mouth, blink and emotion names). */
  readonly morphTargetNames: readonly string[];
  /** Applies this frame's weights (names not given go to 0) and pose; `deltaSec` since the last frame. */
  apply(weights: Readonly<Record<string, number>>, pose: AvatarPose, deltaSec: number): void;
}
