import { BufferAttribute, BufferGeometry, Float32BufferAttribute, Vector3 } from 'three';
import { type FaceParams, MORPH_TARGETS, NEUTRAL_FACE } from './face-params';
import { crowd, hairCover, HIDDEN_AZIMUTH, smoothstep } from './head-grid';

/**
 * The default avatar's head, built procedurally: skin, lips, mouth, teeth, tongue, eyelids, lashes
 * and brows in one BufferGeometry (one material group each) with named morph targets.
 * Units: the head is 2 tall, centred at the origin, looking down +z.
 */

/** Material slots of the head geometry, in group order. */
export const FACE_MATERIALS = ['skin', 'lips', 'mouth', 'teeth', 'tongue', 'lash', 'brow'] as const;
export type FaceMaterial = (typeof FACE_MATERIALS)[number];

/** Where the eyes sit (the eyeballs are separate meshes so they can look around). */
export const EYE = { x: 0.31, y: -0.03, radius: 0.172 } as const;

const MOUTH_Y = -0.56;
const MOUTH_HALF_WIDTH = 0.205;
const JAW_PIVOT = { y: -0.12, z: -0.05 };
const JAW_MAX_RAD = 0.2;

type Vec = [number, number, number];

function gauss(dx: number, dy: number, sx: number, sy: number): number {
  return Math.exp(-((dx * dx) / (2 * sx * sx) + (dy * dy) / (2 * sy * sy)));
}

const DEG = Math.PI / 180;

// ---- skin -------------------------------------------------------------------------------------

/** Neutral head surface for a unit-sphere direction (x, y, z). */
export function headShape(sx: number, sy: number, sz: number): Vec {
  let x = sx * 0.8;
  // A shorter lower face reads younger and friendlier.
  const y = sy * (sy < 0 ? 0.94 : 1);
  let z = sz * 0.86;
  // Lower face narrows into jaw and chin; the back of the skull is fuller than the face.
  const low = smoothstep(-0.1, -0.95, sy);
  x *= 1 - 0.22 * low * low;
  z *= sz > 0 ? 1 - 0.05 * low : 1 - 0.25 * low;
  if (sz < 0) z *= 1 + 0.1 * smoothstep(-0.5, 0.5, sy);
  // Slightly flatter face plane and cheeks.
  const front = smoothstep(0.15, 0.75, sz);
  z -= front * 0.05 * smoothstep(0.5, 0, Math.abs(sx));
  // Features, as forward offsets on the face.
  const f = front;
  z += f * 0.05 * gauss(x, y - MOUTH_Y, 0.26, 0.17); // muzzle
  z += f * 0.05 * gauss(x, y + 0.88, 0.14, 0.08); // chin
  z += f * 0.035 * gauss(Math.abs(x) - 0.42, y + 0.3, 0.14, 0.12); // cheeks
  z += f * 0.03 * gauss(Math.abs(x) - 0.3, y - 0.24, 0.16, 0.05); // brow ridge
  z -= f * 0.12 * gauss(Math.abs(x) - EYE.x, y - EYE.y, 0.15, 0.15); // eye sockets
  z += f * 0.045 * gauss(x, y + 0.12, 0.045, 0.16); // nose bridge
  z += f * 0.14 * gauss(x, y + 0.3, 0.065, 0.065); // nose tip
  z += f * 0.055 * gauss(Math.abs(x) - 0.07, y + 0.335, 0.04, 0.035); // nostril wings
  return [x, y, z];
}

const faceZCache = new Map<string, number>();

/** The neutral skin's z at (x, y) on the face, by fixed-point iteration on the sphere direction. */
function faceZ(x: number, y: number): number {
  const key = `${x},${y}`;
  const cached = faceZCache.get(key);
  if (cached !== undefined) return cached;
  const z = solveFaceZ(x, y);
  faceZCache.set(key, z);
  return z;
}

function solveFaceZ(x: number, y: number): number {
  let sx = x / 0.8;
  let sy = y;
  let point: Vec = [0, 0, 0];
  for (let i = 0; i < 12; i += 1) {
    const sz = Math.sqrt(Math.max(0.02, 1 - sx * sx - sy * sy));
    point = headShape(sx, sy, sz);
    sx += ((x - point[0]) / 0.8) * 0.9;
    sy += (y - point[1]) * 0.9;
  }
  return point[2];
}

/** Rotates a point about the jaw hinge by `open` (0..1), blended by `weight`. */
function jaw(p: Vec, open: number, weight: number): Vec {
  const angle = open * JAW_MAX_RAD * weight;
  if (angle === 0) return p;
  const dy = p[1] - JAW_PIVOT.y;
  const dz = p[2] - JAW_PIVOT.z;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [p[0], JAW_PIVOT.y + dy * c - dz * s, JAW_PIVOT.z + dy * s + dz * c];
}

/** Unit-sphere direction of a skin grid point: seam at the back (u = 0 ↔ 1), poles at top and bottom. */
function skinDirection(u: number, v: number): Vec {
  // Columns crowd at the face, rows between the eyes and the chin.
  const phi = Math.PI + crowd(u, 0.5, 0.6) * 2 * Math.PI;
  const theta = crowd(v, 0.6, 0.55) * Math.PI;
  return [Math.sin(theta) * Math.sin(phi), Math.cos(theta), Math.sin(theta) * Math.cos(phi)];
}

/** Skin under full hair (the hair shell lies well above it there) or facing away from the camera: never seen. */
function unseenSkin(u: number, v: number): boolean {
  const [sx, sy, sz] = skinDirection(u, v);
  return hairCover(sx, sy, sz) > 0.98 || Math.abs(Math.atan2(sx, sz)) > HIDDEN_AZIMUTH;
}

function skin(u: number, v: number, p: FaceParams): Vec {
  const [sx, sy, sz] = skinDirection(u, v);
  let [x, y, z] = headShape(sx, sy, sz);
  const front = smoothstep(-0.2, 0.4, sz);

  // Lips area: pucker pushes forward and gathers, smile lifts the corners and cheeks.
  const mouthArea = gauss(x, y - MOUTH_Y, 0.2, 0.12) * front;
  z += p.pucker * 0.035 * mouthArea;
  x *= 1 - p.pucker * 0.15 * mouthArea + (p.width - 1) * 0.5 * mouthArea;
  const corner = gauss(Math.abs(x) - MOUTH_HALF_WIDTH, y - MOUTH_Y, 0.09, 0.09) * front;
  y += p.smile * 0.04 * corner;
  x += Math.sign(x) * p.smile * 0.02 * corner;
  const cheek = gauss(Math.abs(x) - 0.36, y + 0.34, 0.12, 0.1) * front;
  y += p.smile * 0.025 * cheek;
  z += p.smile * 0.02 * cheek;
  // The skin inside the lips recedes as the mouth opens, so the mouth cavity stays in front of it.
  const slit = smoothstep(MOUTH_HALF_WIDTH * 1.05, MOUTH_HALF_WIDTH * 0.6, Math.abs(x)) * gauss(0, y - MOUTH_Y + 0.02, 1, 0.05) * front;
  z -= slit * Math.min(1, p.open * 3 + p.upperRaise * 20) * 0.07;
  // Lower face follows the jaw. Between the lips the hinge line is sharp, so no stretched skin
  // ends up in front of the lower lip; beside the mouth it blends softly into the cheeks.
  const blend = 0.025 + 0.11 * smoothstep(MOUTH_HALF_WIDTH * 0.8, MOUTH_HALF_WIDTH * 1.5, Math.abs(x));
  const below = smoothstep(MOUTH_Y + 0.012, MOUTH_Y + 0.012 - blend, y) * smoothstep(-0.5, 0.1, z);
  return jaw([x, y, z], p.open, below);
}

// ---- lips, mouth, teeth, tongue ---------------------------------------------------------------

interface LipSection {
  x: number;
  /** Inner edge height and the tube radius. */
  innerY: number;
  radius: number;
  forward: number;
  jawWeight: number;
}

/** Lateral profile: 1 in the middle of the mouth, 0 at the corners. */
function bulge(s: number): number {
  return 1 - s * s;
}

function mouthHalfWidth(p: FaceParams): number {
  return MOUTH_HALF_WIDTH * p.width * (1 - 0.2 * p.pucker);
}

function upperLip(s: number, p: FaceParams): LipSection {
  const b = bulge(s);
  const cornerLift = p.smile * 0.045 * s * s;
  return {
    x: s * mouthHalfWidth(p),
    innerY: MOUTH_Y + (p.upperRaise + p.pucker * 0.01) * Math.sqrt(b) + cornerLift - cornerDrop(p) * s ** 4,
    // A small dip in the middle draws the cupid's bow.
    radius: (0.03 + 0.01 * p.pucker - 0.01 * p.press + 0.006 * p.lowerTuck) * (0.3 + 0.7 * Math.sqrt(b)) * (1 - 0.18 * Math.exp(-((s / 0.1) ** 2))),
    forward: p.pucker * 0.055 * Math.sqrt(b) + 0.004 * p.lowerTuck,
    jawWeight: 0,
  };
}

function lowerLip(s: number, p: FaceParams): LipSection {
  const b = bulge(s);
  const cornerLift = p.smile * 0.045 * s * s;
  return {
    x: s * mouthHalfWidth(p),
    innerY: MOUTH_Y - p.pucker * 0.01 * Math.sqrt(b) + cornerLift + p.lowerTuck * 0.035 * b,
    radius: (0.04 + 0.012 * p.pucker - 0.013 * p.press) * (0.3 + 0.7 * Math.sqrt(b)),
    // The lower lip rolls forward as the jaw swings down and back.
    forward: p.pucker * 0.05 * Math.sqrt(b) - p.lowerTuck * 0.04 * b + p.open * 0.03 * Math.sqrt(b),
    jawWeight: 1 - 0.5 * s ** 4,
  };
}

/** The corners sag half-way with the jaw so the lips stay joined. */
function cornerDrop(p: FaceParams): number {
  const corner: Vec = [MOUTH_HALF_WIDTH, MOUTH_Y, faceZ(MOUTH_HALF_WIDTH, MOUTH_Y)];
  return (corner[1] - jaw(corner, p.open, 1)[1]) * 0.5;
}

/** Lip tube: `u` runs across the mouth (corner to corner), `v` around the tube. */
function lip(section: (s: number, p: FaceParams) => LipSection, upper: boolean) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const s = u * 2 - 1;
    const lipSection = section(s, p);
    const sign = upper ? 1 : -1;
    const centreY = lipSection.innerY + sign * lipSection.radius * 0.9;
    const centreZ = faceZ(lipSection.x, centreY) + 0.028 + lipSection.forward;
    const angle = v * 2 * Math.PI;
    const point: Vec = [
      lipSection.x,
      centreY + Math.cos(angle) * lipSection.radius * sign,
      centreZ + Math.sin(angle) * lipSection.radius * 0.8 * sign,
    ];
    return jaw(point, p.open, lipSection.jawWeight);
  };
}

/** A point between the lips at depth `depth` in front of the neutral skin, `v` 0 upper … 1 lower. */
function betweenLips(s: number, v: number, p: FaceParams, depth: number): Vec {
  const top = upperLip(s, p);
  const bottom = lowerLip(s, p);
  const topPoint: Vec = [top.x, top.innerY, faceZ(top.x, top.innerY) + depth + top.forward * 0.5];
  const bottomPoint = jaw(
    [bottom.x, bottom.innerY, faceZ(bottom.x, bottom.innerY) + depth + Math.max(0, bottom.forward) * 0.5],
    p.open,
    bottom.jawWeight,
  );
  return [
    topPoint[0] + (bottomPoint[0] - topPoint[0]) * v,
    topPoint[1] + (bottomPoint[1] - topPoint[1]) * v,
    topPoint[2] + (bottomPoint[2] - topPoint[2]) * v,
  ];
}

function mouthCavity(u: number, v: number, p: FaceParams): Vec {
  return betweenLips(u * 2 - 1, v, p, 0.012);
}

/** A row of teeth: a band hanging from the upper lip or standing on the lower lip. */
function teeth(upper: boolean) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const s = (u * 2 - 1) * 0.72;
    const heightTop = upper ? 0.02 : 0.022;
    const heightBottom = upper ? -0.052 : -0.02;
    const section = upper ? upperLip(s, p) : lowerLip(s, p);
    // Upper teeth are fixed to the skull; the lower ones ride on the jaw (not the lip).
    const y = (upper ? MOUTH_Y + p.upperRaise * 0.3 : MOUTH_Y - 0.008) + heightTop + (heightBottom - heightTop) * v;
    const edge = Math.abs(s) / 0.72;
    const z = faceZ(section.x, y) + 0.021 - 0.012 * edge * edge;
    const point: Vec = [section.x, y - (upper ? 0 : 0.01), z];
    return upper ? point : jaw(point, p.open, 1);
  };
}

function tongue(u: number, v: number, p: FaceParams): Vec {
  const s = (u * 2 - 1) * 0.6;
  const across = 1 - (s / 0.6) ** 2;
  const base = betweenLips(s, 0.6 + 0.4 * v, p, 0.015);
  // Tongue out (th): the tip rises to the upper teeth and comes forward.
  const tip = p.tongueOut * (1 - v) * across;
  return [base[0], base[1] + tip * 0.03, base[2] + tip * 0.035 + 0.002 * across];
}

// ---- eyes: lids, lashes, brows ----------------------------------------------------------------

const LID_YAW_MAX = 72 * DEG;
const LID_RADIUS = EYE.radius * 1.1;

/** Eye centre: the eyeball sits in its socket and bulges out of the skin. */
export function eyeCentre(side: 1 | -1): Vector3 {
  const x = side * EYE.x;
  return new Vector3(x, EYE.y, faceZ(x, EYE.y) - EYE.radius * 0.36);
}

function lidPoint(side: 1 | -1, yaw: number, pitch: number, radius: number): Vec {
  const centre = eyeCentre(side);
  // Lids turn slightly outward with the face.
  const turned = yaw + side * 8 * DEG;
  return [
    centre.x + radius * Math.sin(turned) * Math.cos(pitch),
    centre.y + radius * Math.sin(pitch),
    centre.z + radius * Math.cos(turned) * Math.cos(pitch),
  ];
}

function upperLidEdge(t: number, blink: number): number {
  const open = 20 * DEG - 10 * DEG * t * t;
  const closed = -24 * DEG + 10 * DEG * t * t;
  return open + (closed - open) * blink;
}

function lowerLidEdge(t: number, blink: number): number {
  return -30 * DEG + 13 * DEG * t * t + blink * 4 * DEG;
}

function blinkOf(side: 1 | -1, p: FaceParams): number {
  return side === 1 ? p.blinkLeft : p.blinkRight;
}

function upperLid(side: 1 | -1) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const t = u * 2 - 1;
    const edge = upperLidEdge(t, blinkOf(side, p));
    const pitch = 80 * DEG + (edge - 80 * DEG) * v;
    // The margin curls in towards the eyeball to give the lid thickness.
    const radius = LID_RADIUS - smoothstep(0.85, 1, v) * EYE.radius * 0.08;
    return lidPoint(side, t * LID_YAW_MAX, pitch, radius);
  };
}

function lowerLid(side: 1 | -1) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const t = u * 2 - 1;
    const edge = lowerLidEdge(t, blinkOf(side, p));
    const pitch = -80 * DEG + (edge + 80 * DEG) * v;
    const radius = LID_RADIUS * 0.99 - smoothstep(0.8, 1, v) * EYE.radius * 0.07;
    return lidPoint(side, t * LID_YAW_MAX * 0.95, pitch, radius);
  };
}

function lashes(side: 1 | -1) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const t = u * 2 - 1;
    const edge = upperLidEdge(t, blinkOf(side, p));
    // A lash line just under the lid margin, over the eyeball, thicker towards the outer corner,
    // so it reads from the front wherever the skin around the socket ends.
    const outer = smoothstep(-0.2, 1, t * side);
    const thickness = (7 + 9 * outer * outer) * DEG * (1 - 0.7 * Math.abs(t) ** 6 * (1 - outer));
    const pitch = edge + 4 * DEG - v * thickness;
    const radius = EYE.radius * (1.045 - 0.025 * v);
    return lidPoint(side, t * LID_YAW_MAX * (1 + 0.08 * v * outer * outer), pitch, radius);
  };
}

function brow(side: 1 | -1) {
  return (u: number, v: number, p: FaceParams): Vec => {
    const t = u; // 0 inner … 1 outer
    const x = side * (0.1 + t * 0.38);
    const inner = (1 - t) ** 1.5;
    const y = 0.25 + 0.055 * Math.sin(Math.PI * Math.min(1, t * 1.1)) - 0.02 * t + p.browInnerUp * 0.06 * inner + p.smile * 0.01;
    const radius = 0.028 * (1 - 0.55 * t) + 0.006;
    const angle = v * 2 * Math.PI;
    const cy = y + Math.cos(angle) * radius;
    return [x, cy, faceZ(x, y) + 0.006 + Math.sin(angle) * radius * 0.35 + 0.004];
  };
}

// ---- assembly ---------------------------------------------------------------------------------

interface GridPart {
  material: FaceMaterial;
  cols: number;
  rows: number;
  /** Connect the last column back to the first (closed surfaces: no seam normals). */
  wrapU: boolean;
  /** Reverse the winding so normals face outwards. */
  flip: boolean;
  surface: (u: number, v: number, p: FaceParams) => Vec;
  /** Vertex colour multiplier (cheek blush on skin). */
  tint?: (point: Vec) => Vec;
  /** Grid points that can never be seen: triangles with only such corners are left out. */
  hidden?: (u: number, v: number) => boolean;
}

function blush(point: Vec): Vec {
  const [x, y, z] = point;
  const cheeks = gauss(Math.abs(x) - 0.42, y + 0.3, 0.11, 0.09) * smoothstep(0, 0.4, z);
  const nose = gauss(x, y + 0.31, 0.06, 0.06) * 0.5;
  const amount = Math.min(1, cheeks + nose) * 0.2;
  // Shade under the nose and in the nostrils.
  const under = gauss(Math.abs(x) - 0.045, y + 0.37, 0.028, 0.016) * 0.25;
  return [1 - under, 1 - amount - under, 1 - amount * 1.1 - under];
}

const PARTS: GridPart[] = [
  { material: 'skin', cols: 64, rows: 56, wrapU: true, flip: false, surface: skin, tint: blush, hidden: unseenSkin },
  { material: 'mouth', cols: 24, rows: 6, wrapU: false, flip: false, surface: mouthCavity },
  { material: 'tongue', cols: 12, rows: 5, wrapU: false, flip: false, surface: tongue },
  { material: 'teeth', cols: 24, rows: 3, wrapU: false, flip: false, surface: teeth(true) },
  { material: 'teeth', cols: 24, rows: 3, wrapU: false, flip: false, surface: teeth(false) },
  { material: 'lips', cols: 40, rows: 14, wrapU: false, flip: false, surface: lip(upperLip, true) },
  { material: 'lips', cols: 40, rows: 14, wrapU: false, flip: false, surface: lip(lowerLip, false) },
  ...([1, -1] as const).flatMap((side): GridPart[] => [
    { material: 'skin', cols: 28, rows: 10, wrapU: false, flip: false, surface: upperLid(side) },
    { material: 'skin', cols: 28, rows: 6, wrapU: false, flip: true, surface: lowerLid(side) },
    { material: 'lash', cols: 28, rows: 2, wrapU: false, flip: false, surface: lashes(side) },
    { material: 'brow', cols: 16, rows: 8, wrapU: false, flip: side === -1, surface: brow(side) },
  ]),
];

function vertexCount(part: GridPart): number {
  return part.cols * (part.rows + 1) + (part.wrapU ? 0 : part.rows + 1);
}

function columnsOf(part: GridPart): number {
  return part.wrapU ? part.cols : part.cols + 1;
}

function positionsFor(params: FaceParams, total: number): Float32Array {
  const out = new Float32Array(total * 3);
  let offset = 0;
  for (const part of PARTS) {
    const columns = columnsOf(part);
    for (let row = 0; row <= part.rows; row += 1) {
      for (let col = 0; col < columns; col += 1) {
        const point = part.surface(col / part.cols, row / part.rows, params);
        out.set(point, offset);
        offset += 3;
      }
    }
  }
  return out;
}

/** Triangles of every part, by material (indices into FACE_MATERIALS). */
function trianglesByMaterial(): number[][] {
  const byMaterial = FACE_MATERIALS.map(() => [] as number[]);
  let base = 0;
  for (const part of PARTS) {
    const index = byMaterial[FACE_MATERIALS.indexOf(part.material)]!;
    const columns = columnsOf(part);
    const hidden = (row: number, col: number): boolean => part.hidden?.((col % columns) / part.cols, row / part.rows) ?? false;
    for (let row = 0; row < part.rows; row += 1) {
      for (let col = 0; col < part.cols; col += 1) {
        if (hidden(row, col) && hidden(row, col + 1) && hidden(row + 1, col) && hidden(row + 1, col + 1)) continue;
        const a = base + row * columns + col;
        const b = base + row * columns + ((col + 1) % columns);
        const c = base + (row + 1) * columns + col;
        const d = base + (row + 1) * columns + ((col + 1) % columns);
        if (part.flip) index.push(a, b, c, b, d, c);
        else index.push(a, c, b, b, c, d);
      }
    }
    base += vertexCount(part);
  }
  return byMaterial;
}

/** Sets the index of `geometry` to these triangles, one draw group per material that has any. */
function setIndexByMaterial(geometry: BufferGeometry, byMaterial: readonly number[][]): void {
  const index: number[] = [];
  byMaterial.forEach((triangles, material) => {
    if (triangles.length === 0) return;
    geometry.addGroup(index.length, triangles.length, material);
    index.push(...triangles);
  });
  geometry.setIndex(index);
}

/**
 * A morph moves a vertex when it shifts it or turns its normal by more than this: 2e-4 head units
 * is 0.04 px at 720p, 5e-3 a third of a degree. Smaller changes are dropped from the targets.
 */
const MOVE_EPSILON = { position: 2e-4, normal: 5e-3 };

function normalsFor(positions: Float32Array, index: BufferAttribute): Float32Array {
  const scratch = new BufferGeometry();
  scratch.setAttribute('position', new BufferAttribute(positions, 3));
  scratch.setIndex(index);
  scratch.computeVertexNormals();
  return scratch.getAttribute('normal').array as Float32Array;
}

/** The head: the triangles some morph target moves (with the morph targets) and the ones none does. */
export interface FaceGeometry {
  /** Morphing triangles, with morph targets (relative) in MORPH_TARGETS order. */
  geometry: BufferGeometry;
  /** Triangles no morph target moves (forehead, skull, temples): drawn without the per-vertex morph work. */
  still: BufferGeometry;
  morphTargetNames: string[];
  /** Each vertex's material, as an index into FACE_MATERIALS (every part has one material). */
  vertexMaterial: Uint8Array;
}

/**
 * Builds the head. Both geometries share one set of vertex buffers; a vertex on the border between
 * them is one no morph moves, so the two parts always meet without a seam.
 */
export function buildFaceGeometry(): FaceGeometry {
  const total = PARTS.reduce((sum, part) => sum + vertexCount(part), 0);
  const byMaterial = trianglesByMaterial();
  const index = new BufferAttribute(Uint32Array.from(byMaterial.flat()), 1);
  const neutral = positionsFor(NEUTRAL_FACE, total);
  const neutralNormals = normalsFor(neutral, index);
  const geometry = new BufferGeometry();
  const still = new BufferGeometry();
  for (const part of [geometry, still]) {
    part.setAttribute('position', new BufferAttribute(neutral, 3));
    part.setAttribute('normal', new BufferAttribute(neutralNormals, 3));
  }

  const colors = new Float32Array(total * 3).fill(1);
  const vertexMaterial = new Uint8Array(total);
  let offset = 0;
  for (const part of PARTS) {
    const count = vertexCount(part);
    vertexMaterial.fill(FACE_MATERIALS.indexOf(part.material), offset, offset + count);
    if (part.tint) {
      for (let i = offset; i < offset + count; i += 1) {
        colors.set(part.tint([neutral[i * 3]!, neutral[i * 3 + 1]!, neutral[i * 3 + 2]!]), i * 3);
      }
    }
    offset += count;
  }
  const color = new Float32BufferAttribute(colors, 3);
  geometry.setAttribute('color', color);
  still.setAttribute('color', color);

  const moves = new Uint8Array(total);
  const morphTargetNames = Object.keys(MORPH_TARGETS);
  const positionDeltas: Float32Array[] = [];
  const normalDeltas: Float32Array[] = [];
  for (const name of morphTargetNames) {
    const shaped = positionsFor({ ...NEUTRAL_FACE, ...MORPH_TARGETS[name] }, total);
    const shapedNormals = normalsFor(shaped, index);
    for (let i = 0; i < shaped.length; i += 1) {
      shaped[i] = shaped[i]! - neutral[i]!;
      shapedNormals[i] = shapedNormals[i]! - neutralNormals[i]!;
      if (Math.abs(shaped[i]!) > MOVE_EPSILON.position || Math.abs(shapedNormals[i]!) > MOVE_EPSILON.normal) moves[Math.floor(i / 3)] = 1;
    }
    positionDeltas.push(shaped);
    normalDeltas.push(shapedNormals);
  }
  // A vertex no target moves stays put under all of them: the still part draws it exactly there.
  for (let vertex = 0; vertex < total; vertex += 1) {
    if (moves[vertex]) continue;
    for (const deltas of [...positionDeltas, ...normalDeltas]) deltas.fill(0, vertex * 3, vertex * 3 + 3);
  }
  geometry.morphAttributes.position = positionDeltas.map((deltas, target) => {
    const attribute = new Float32BufferAttribute(deltas, 3);
    attribute.name = morphTargetNames[target]!;
    return attribute;
  });
  geometry.morphAttributes.normal = normalDeltas.map((deltas) => new Float32BufferAttribute(deltas, 3));
  geometry.morphTargetsRelative = true;

  const moving = byMaterial.map(() => [] as number[]);
  const resting = byMaterial.map(() => [] as number[]);
  byMaterial.forEach((triangles, material) => {
    for (let i = 0; i < triangles.length; i += 3) {
      const corners = [triangles[i]!, triangles[i + 1]!, triangles[i + 2]!];
      (corners.some((corner) => moves[corner]) ? moving : resting)[material]!.push(...corners);
    }
  });
  setIndexByMaterial(geometry, moving);
  setIndexByMaterial(still, resting);
  geometry.computeBoundingSphere();
  still.computeBoundingSphere();
  return { geometry, still, morphTargetNames, vertexMaterial };
}
