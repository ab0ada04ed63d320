/** Head, body and eye pose of one frame (radians; breath 0 exhaled … 1 inhaled). */
export interface AvatarPose {
  headYaw: number;
  headPitch: number;
  headRoll: number;
  breath: number;
  gazeYaw: number;
  gazePitch: number;
}

/** What the animation loop drives: set every weight and the pose once per frame. */
export interface AvatarRig {
  readonly morphTargetNames: readonly string[];
  /** Applies this frame's morph weights (names not given go to 0) and pose. */
  apply(weights: Readonly<Record<string, number>>, pose: AvatarPose): void;
}
