import { DirectionalLight, HemisphereLight, type Light } from 'three';
import type { RenderQuality } from './render-quality';

/** One light of the avatar's rig: a sky/ground hemisphere or a directional light from `position` towards the origin. */
export type LightSpec =
  | { kind: 'hemisphere'; sky: string; ground: string; intensity: number }
  | { kind: 'directional'; position: readonly [number, number, number]; color: string; intensity: number };

const FULL_RIG: readonly LightSpec[] = [
  { kind: 'hemisphere', sky: '#fff4ea', ground: '#3a4658', intensity: 1.1 },
  // Warm key, cool fill, rim to separate the silhouette, faint bounce from below.
  { kind: 'directional', position: [2.5, 3, 5], color: '#fff1e3', intensity: 2.4 },
  { kind: 'directional', position: [-4, 1, 3], color: '#cfe0ff', intensity: 0.7 },
  { kind: 'directional', position: [1.5, 2, -5], color: '#ffe6c8', intensity: 1.8 },
  { kind: 'directional', position: [-2, -3, 4], color: '#ffd9c9', intensity: 0.35 },
];

/** Light detail folds the faint bounce light from below into the sky light. */
const LIGHT_RIG: readonly LightSpec[] = [{ ...FULL_RIG[0]!, intensity: 1.25 } as LightSpec, ...FULL_RIG.slice(1, 4)];

/** Soft three-point lighting of the stage, per detail level. */
export function lightRig(detail: RenderQuality['detail']): readonly LightSpec[] {
  return detail === 'full' ? FULL_RIG : LIGHT_RIG;
}

/** three.js lights for a rig (directional lights aim at the origin). */
export function createLights(specs: readonly LightSpec[]): Light[] {
  return specs.map((spec) => {
    if (spec.kind === 'hemisphere') return new HemisphereLight(spec.sky, spec.ground, spec.intensity);
    const light = new DirectionalLight(spec.color, spec.intensity);
    light.position.set(...spec.position);
    return light;
  });
}
