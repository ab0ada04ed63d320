import { Euler, type Mesh, type Object3D, Quaternion } from 'three';
import type { AvatarInfo, AvatarPose, AvatarRig } from './avatar-rig';

/** A morph name as exporters vary it: case, and prefixes such as "blendShape1." or "Face.". */
export function normalizeMorphName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1).toLowerCase();
}

/**
 * Drives a plain glTF avatar: each weight name goes to every mesh that has a morph target of that
 * name (faces are often split into head, teeth and tongue meshes); the head bone, when there is
 * one, takes the pose; otherwise the whole model turns a little.
 */
export class GltfRig implements AvatarRig {
  readonly morphTargetNames: readonly string[];
  private readonly bindings: Array<{ name: string; targets: Array<{ influences: number[]; index: number }> }>;
  private readonly head: Object3D;
  private readonly headRest: Quaternion;
  private readonly rootRestY: number;
  private readonly euler = new Euler();
  private readonly turn = new Quaternion();

  constructor(
    readonly info: AvatarInfo,
    private readonly root: Object3D,
    wanted: readonly string[],
    head: Object3D | null,
  ) {
    const byName = new Map<string, Array<{ influences: number[]; index: number }>>();
    root.traverse((object) => {
      const mesh = object as Mesh;
      if (!mesh.isMesh || !mesh.morphTargetDictionary || !mesh.morphTargetInfluences) return;
      for (const [name, index] of Object.entries(mesh.morphTargetDictionary)) {
        const key = normalizeMorphName(name);
        if (!byName.has(key)) byName.set(key, []);
        byName.get(key)!.push({ influences: mesh.morphTargetInfluences, index });
      }
    });
    this.bindings = wanted.flatMap((name) => {
      const targets = byName.get(normalizeMorphName(name));
      return targets ? [{ name, targets }] : [];
    });
    this.morphTargetNames = this.bindings.map((binding) => binding.name);
    this.head = head ?? root;
    this.headRest = this.head.quaternion.clone();
    this.rootRestY = root.position.y;
  }

  apply(weights: Readonly<Record<string, number>>, pose: AvatarPose): void {
    for (const { name, targets } of this.bindings) {
      const weight = weights[name] ?? 0;
      for (const target of targets) target.influences[target.index] = weight;
    }
    // A whole model turning (no head bone) moves less than a head would.
    const scale = this.head === this.root ? 0.4 : 1;
    this.euler.set(pose.headPitch * scale, pose.headYaw * scale, pose.headRoll * scale, 'YXZ');
    this.head.quaternion.copy(this.headRest).multiply(this.turn.setFromEuler(this.euler));
    this.root.position.y = this.rootRestY + pose.breath * 0.012;
  }
}
