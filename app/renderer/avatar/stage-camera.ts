import { PerspectiveCamera, type Quaternion } from 'three';

/** The portrait camera of the avatar stage: head and shoulders, looking slightly down. */
export const STAGE_CAMERA = {
  fovDeg: 25,
  position: [0, -0.35, 9.2],
  target: [0, -0.5, 0],
  near: 0.1,
  far: 50,
} as const;

/** The stage camera's orientation (its view space is where baked matcaps are lit). */
export function stageViewQuaternion(): Quaternion {
  const camera = new PerspectiveCamera();
  camera.position.set(...STAGE_CAMERA.position);
  camera.lookAt(...STAGE_CAMERA.target);
  return camera.quaternion.clone();
}
