import type { VRM } from '@pixiv/three-vrm';
import type { Object3D } from 'three';
import type { AvatarInfo, AvatarPose, AvatarRig } from './avatar-rig';
import { BREATH_LIFT_M, HEAD_SHARE, NECK_SHARE, setHeadRotation } from './humanoid-pose';

/** VRM 0.x preset names (our morph table and mixer) → the VRM 1.0 names three-vrm uses for both. */
const VRM0_TO_THREE_VRM: Readonly<Record<string, string>> = {
  A: 'aa',
  I: 'ih',
  U: 'ou',
  E: 'ee',
  O: 'oh',
  Blink_L: 'blinkLeft',
  Blink_R: 'blinkRight',
  Joy: 'happy',
  Angry: 'angry',
  Sorrow: 'sad',
  Fun: 'relaxed',
};

const RAD_TO_DEG = 180 / Math.PI;

/** three-vrm's names for the emotion presets of both VRM versions. */
const EMOTION_PRESETS = ['happy', 'angry', 'sad', 'relaxed', 'surprised'] as const;

/**
 * Drives a VRM (0.x or 1.0) through three-vrm: weights become expression values, the pose goes to
 * the normalized head and neck bones and the look-at, then `vrm.update()` runs once per frame.
 */
export class VrmRig implements AvatarRig {
  readonly morphTargetNames: readonly string[];
  private readonly expressions: Array<{ name: string; expression: string }>;
  private readonly rootRestY: number;

  constructor(
    readonly info: AvatarInfo,
    private readonly vrm: VRM,
    private readonly root: Object3D,
    wanted: readonly string[],
  ) {
    const manager = vrm.expressionManager;
    // Emotion presets authored to block the mouth or the blink would freeze lip-sync or blinks
    // while an emotion shows; the face mixer already damps emotions during speech instead.
    for (const preset of EMOTION_PRESETS) {
      const expression = manager?.getExpression(preset);
      if (expression) {
        expression.overrideMouth = 'none';
        expression.overrideBlink = 'none';
      }
    }
    this.expressions = wanted.flatMap((name) => {
      const expression = info.kind === 'vrm0' ? (VRM0_TO_THREE_VRM[name] ?? name) : name;
      return manager?.getExpression(expression) ? [{ name, expression }] : [];
    });
    this.morphTargetNames = this.expressions.map((entry) => entry.name);
    this.rootRestY = root.position.y;
  }

  apply(weights: Readonly<Record<string, number>>, pose: AvatarPose, deltaSec: number): void {
    const manager = this.vrm.expressionManager;
    for (const { name, expression } of this.expressions) manager?.setValue(expression, weights[name] ?? 0);
    const humanoid = this.vrm.humanoid;
    const head = humanoid.getNormalizedBoneNode('head');
    const neck = humanoid.getNormalizedBoneNode('neck');
    if (head) setHeadRotation(head.rotation, pose, HEAD_SHARE);
    if (neck) setHeadRotation(neck.rotation, pose, NECK_SHARE);
    const lookAt = this.vrm.lookAt;
    if (lookAt) {
      lookAt.yaw = pose.gazeYaw * RAD_TO_DEG;
      lookAt.pitch = pose.gazePitch * RAD_TO_DEG;
    }
    this.root.position.y = this.rootRestY + pose.breath * BREATH_LIFT_M;
    this.vrm.update(deltaSec);
  }
}
