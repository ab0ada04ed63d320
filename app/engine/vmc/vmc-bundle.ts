import { Bundle, Message } from 'node-osc';
import { VMC_EXPRESSIONS, type VmcExpression, type VmcNaming, type VmcPose } from '../../shared/vmc.contract';

/** VRM 0.x blend shape preset of each VRM 1.0 expression (VRM 0.x has no "surprised"). */
const VRM0_NAMES: Readonly<Record<VmcExpression, string | null>> = {
  aa: 'A',
  ih: 'I',
  ou: 'U',
  ee: 'E',
  oh: 'O',
  blinkLeft: 'Blink_L',
  blinkRight: 'Blink_R',
  happy: 'Joy',
  angry: 'Angry',
  sad: 'Sorrow',
  relaxed: 'Fun',
  surprised: null,
};

/** The wire name of an expression under `naming`, or null when that naming has no such preset. */
export function vmcExpressionName(expression: VmcExpression, naming: VmcNaming): string | null {
  return naming === 'vrm0' ? VRM0_NAMES[expression] : expression;
}

type Vec3 = readonly [number, number, number];
type Quat = readonly [number, number, number, number];

const float = (value: number): { type: 'f'; value: number } => ({ type: 'f', value });
const int = (value: number): { type: 'i'; value: number } => ({ type: 'i', value });

/** glTF / three.js (right-handed) → Unity (left-handed): mirror X. */
function unityPosition([x, y, z]: Vec3): Vec3 {
  return [-x, y, z];
}
function unityRotation([x, y, z, w]: Quat): Quat {
  return [x, -y, -z, w];
}

function transformArgs(position: Vec3, rotation: Quat): Array<{ type: 'f'; value: number }> {
  return [...unityPosition(position), ...unityRotation(rotation)].map(float);
}

/** VMC `/VMC/Ext/OK`: loaded, calibration state (3: calibrated), calibration mode (0: normal), tracking (1: ok). */
const OK_ARGS = [int(1), int(3), int(0), int(1)];
const BONE_POSITION: Vec3 = [0, 0, 0];

/**
 * One frame of VMC as an OSC bundle (immediate time tag): availability, the frame's time on the
 * audio clock, root and bone transforms in Unity's space, every expression of the naming (0 where
 * the avatar did not move it, so a receiver's shapes come back to rest), then Apply.
 */
export function vmcBundle(pose: VmcPose, naming: VmcNaming): Bundle {
  const bundle = new Bundle(0);
  bundle.append(new Message('/VMC/Ext/OK', ...OK_ARGS));
  bundle.append(new Message('/VMC/Ext/T', float(pose.audioTimeSec)));
  bundle.append(new Message('/VMC/Ext/Root/Pos', 'root', ...transformArgs(pose.root.position, pose.root.rotation)));
  // Receivers apply bone rotations; local positions other than the hips' are the model's own.
  for (const bone of pose.bones) bundle.append(new Message('/VMC/Ext/Bone/Pos', bone.name, ...transformArgs(BONE_POSITION, bone.rotation)));
  for (const expression of VMC_EXPRESSIONS) {
    const name = vmcExpressionName(expression, naming);
    if (name !== null) bundle.append(new Message('/VMC/Ext/Blend/Val', name, float(pose.blend[expression] ?? 0)));
  }
  bundle.append(new Message('/VMC/Ext/Blend/Apply'));
  return bundle;
}
