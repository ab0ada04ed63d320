import { BufferAttribute, BufferGeometry, LatheGeometry, SphereGeometry, TorusGeometry, Vector2 } from 'three';
import { headShape } from './face-geometry';

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * Stylized hair: a shell over the skull with a soft side-swept fringe. Outside the hairline the
 * shell tucks under the skin, so the edge reads as hair growing out of the head.
 */
export function buildHairGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(1, 144, 96);
  const position = geometry.getAttribute('position') as BufferAttribute;
  for (let i = 0; i < position.count; i += 1) {
    const sx = position.getX(i);
    const sy = position.getY(i);
    const sz = position.getZ(i);
    const azimuth = Math.atan2(sx, sz); // 0 at the face, ±π at the back
    const back = (1 - Math.cos(azimuth)) / 2;
    // Hairline: high on the forehead with a wavy fringe swept to one side, low at the nape.
    const fringe = (1 - back) ** 2 * (0.06 * Math.sin(azimuth * 9 + 0.6) + 0.12 * Math.tanh(azimuth * 1.6));
    const overEars = Math.exp(-(((Math.abs(azimuth) - 1.5) / 0.35) ** 2)) * 0.2;
    const hairline = 0.5 - 1.05 * back ** 0.8 + fringe + overEars;
    const inside = smoothstep(hairline - 0.05, hairline + 0.05, sy);
    const [x, y, z] = headShape(sx, sy, sz);
    // Locks: rounded ridges with narrow grooves between them, swept sideways, calmed towards the
    // crown where the azimuth turns quickly.
    const calm = 1 - smoothstep(0.55, 0.95, sy);
    const ridge = 1 - Math.abs(Math.cos(azimuth * 7 + sy * 3.5 - 0.4));
    const locks = 0.022 * (1 - ridge ** 3) * calm;
    // A side parting above the avatar's left eye.
    const parting = 0.035 * Math.exp(-(((azimuth - 0.5) / 0.07) ** 2)) * smoothstep(0.35, 0.75, sy) * calm;
    const volume = 0.05 + 0.09 * smoothstep(-0.2, 0.9, sy) + 0.03 * back;
    const offset = inside * (volume + locks - parting) - (1 - inside) * 0.06;
    const length = Math.hypot(x, y, z);
    position.setXYZ(i, x + (x / length) * offset, y + (y / length) * offset, z + (z / length) * offset);
  }
  geometry.computeVertexNormals();
  return geometry;
}

/** Ear: a flattened, slightly cupped ellipsoid. */
export function buildEarGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(1, 24, 16);
  const position = geometry.getAttribute('position') as BufferAttribute;
  for (let i = 0; i < position.count; i += 1) {
    const x = position.getX(i);
    const y = position.getY(i);
    const z = position.getZ(i);
    position.setXYZ(i, x * 0.07 - 0.03 * (1 - y * y) * (z > 0 ? 1 : 0), y * 0.21, z * 0.13);
  }
  geometry.computeVertexNormals();
  return geometry;
}

/** Neck, shoulders and upper chest as one lathe, flattened front to back. */
export function buildTorsoGeometry(): BufferGeometry {
  const profile = [
    [0.001, 0.1],
    [0.4, 0.1],
    [0.47, -0.05],
    [0.75, -0.18],
    [1.15, -0.32],
    [1.42, -0.52],
    [1.56, -0.82],
    [1.62, -1.3],
    [1.6, -2.6],
  ]
    // Lathe faces point outwards when the profile runs bottom to top.
    .reverse()
    .map(([r, y]) => new Vector2(r, y));
  const geometry = new LatheGeometry(profile, 72);
  geometry.scale(0.92, 1, 0.62);
  return geometry;
}

export function buildNeckGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(1, 48, 24);
  const position = geometry.getAttribute('position') as BufferAttribute;
  for (let i = 0; i < position.count; i += 1) {
    const x = position.getX(i);
    const y = position.getY(i);
    const z = position.getZ(i);
    const taper = 1 + 0.15 * Math.max(0, -y);
    position.setXYZ(i, x * 0.4 * taper, y * 0.56, z * 0.33 * taper);
  }
  geometry.computeVertexNormals();
  return geometry;
}

export function buildCollarGeometry(): BufferGeometry {
  const geometry = new TorusGeometry(0.47, 0.075, 16, 64);
  geometry.rotateX(Math.PI / 2);
  geometry.scale(1, 0.55, 0.78);
  return geometry;
}
