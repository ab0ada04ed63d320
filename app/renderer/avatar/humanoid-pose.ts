import { Euler, Quaternion } from 'three';
import type { AvatarPose } from './avatar-rig';

/** How a humanoid shares the head pose: the head bone turns most of it, the neck the rest. */
export const HEAD_SHARE = 0.7;
export const NECK_SHARE = 0.3;
/** How far the breath lifts the avatar (metres at breath 1). */
export const BREATH_LIFT_M = 0.012;

/** The head or neck bone's local rotation for `share` of the pose (three.js Euler, YXZ). */
export function setHeadRotation(target: Euler, pose: AvatarPose, share: number): Euler {
  return target.set(pose.headPitch * share, pose.headYaw * share, pose.headRoll * share, 'YXZ');
}

/** An eye bone's local rotation for the gaze (up is a negative turn about X). */
export function setEyeRotation(target: Euler, pose: AvatarPose): Euler {
  return target.set(-pose.gazePitch, pose.gazeYaw, 0, 'YXZ');
}

const euler = new Euler();
const quaternion = new Quaternion();

/** [x, y, z, w] of an Euler rotation. */
export function quaternionOf(rotation: Euler): [number, number, number, number] {
  quaternion.setFromEuler(rotation);
  return [quaternion.x, quaternion.y, quaternion.z, quaternion.w];
}

/** Neck, head and eye rotations of a humanoid for one frame's pose, as quaternions [x, y, z, w]. */
export function humanoidBoneRotations(pose: AvatarPose): { neck: [number, number, number, number]; head: [number, number, number, number]; eye: [number, number, number, number] } {
  return {
    neck: quaternionOf(setHeadRotation(euler, pose, NECK_SHARE)),
    head: quaternionOf(setHeadRotation(euler, pose, HEAD_SHARE)),
    eye: quaternionOf(setEyeRotation(euler, pose)),
  };
}
