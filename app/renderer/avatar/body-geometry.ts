import { BufferAttribute, BufferGeometry, Float32BufferAttribute, LatheGeometry, SphereGeometry, TorusGeometry, Vector2 } from 'three';
import { headShape } from './face-geometry';
import { crowd, hairCover, HIDDEN_AZIMUTH, smoothstep } from './head-grid';

/** Hair triangles whose corners all have less cover than this lie tucked under the skin: never seen. */
const TUCKED_COVER = 0.02;

/**
 * Stylized hair: a shell over the skull with a soft side-swept fringe. Outside the hairline the
 * shell tucks under the skin, so the edge reads as hair growing out of the head. The tucked-away
 * part and the back (which the stage camera never sees) are left out; columns crowd at the face
 * and rows at the fringe, where the eye falls.
 */
export function buildHairGeometry(): BufferGeometry {
  const cols = 96;
  const rows = 72;
  const positions: number[] = [];
  const visibleAt: boolean[] = [];
  for (let row = 0; row <= rows; row += 1) {
    const theta = crowd(row / rows, 0.4, 0.5) * Math.PI;
    for (let col = 0; col < cols; col += 1) {
      // Azimuth 0 (the face) at col = cols / 2; the seam at the back.
      const azimuth = (crowd(col / cols, 0.5, 0.5) * 2 - 1) * Math.PI;
      const sx = Math.sin(theta) * Math.sin(azimuth);
      const sy = Math.cos(theta);
      const sz = Math.sin(theta) * Math.cos(azimuth);
      const inside = hairCover(sx, sy, sz);
      const [x, y, z] = headShape(sx, sy, sz);
      const back = (1 - Math.cos(azimuth)) / 2;
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
      positions.push(x + (x / length) * offset, y + (y / length) * offset, z + (z / length) * offset);
      visibleAt.push(inside > TUCKED_COVER && Math.abs(azimuth) < HIDDEN_AZIMUTH);
    }
  }
  const index: number[] = [];
  const visible = (...corners: number[]): boolean => corners.some((corner) => visibleAt[corner]!);
  for (let row = 0; row < rows; row += 1) {
    for (let col = 0; col < cols; col += 1) {
      const a = row * cols + col;
      const b = row * cols + ((col + 1) % cols);
      const c = (row + 1) * cols + col;
      const d = (row + 1) * cols + ((col + 1) % cols);
      // Rows 0 and `rows` are the poles: one of the two triangles there has no area.
      if (row > 0 && visible(a, c, b)) index.push(a, c, b);
      if (row < rows - 1 && visible(b, c, d)) index.push(b, c, d);
    }
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new Float32BufferAttribute(positions, 3));
  geometry.setIndex(index);
  geometry.computeVertexNormals();
  return geometry;
}

/** Ear: a flattened, slightly cupped ellipsoid. */
export function buildEarGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(1, 20, 12);
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

/** The band of the neck between chin and collar: above it is inside the head, below it inside the torso. */
const NECK_THETA = { start: 0.25 * Math.PI, length: 0.45 * Math.PI };

export function buildNeckGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(1, 32, 12, 0, Math.PI * 2, NECK_THETA.start, NECK_THETA.length);
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
  const geometry = new TorusGeometry(0.47, 0.075, 12, 48);
  geometry.rotateX(Math.PI / 2);
  geometry.scale(1, 0.55, 0.78);
  return geometry;
}
