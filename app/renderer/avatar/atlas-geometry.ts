import { BufferAttribute, type BufferGeometry, Euler, Float32BufferAttribute, Matrix4, Quaternion, Vector3 } from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';

/**
 * Geometry for the atlas matcap material (vertex-matcap-material.ts): every vertex carries its
 * surface's tile (`matcapTile`) and a colour, so surfaces that move together can be drawn in one
 * call. On software GL each draw costs about 0.1 ms before it shades a pixel, and the built-in
 * avatar had 22 of them.
 */

/** A surface's geometry, its atlas tile, and where it sits in the group it is merged into. */
export interface PlacedPart {
  geometry: BufferGeometry;
  tile: number;
  position?: readonly [number, number, number];
  rotation?: readonly [number, number, number];
}

/** The attributes the atlas material reads; others (uv) are left out of merged geometry. */
const ATLAS_ATTRIBUTES = ['position', 'normal', 'color', 'matcapTile'] as const;

/** Gives every vertex of `geometry` the tile `tile`, and a white colour where it has none. */
export function setAtlasAttributes(geometry: BufferGeometry, tileOfVertex: (vertex: number) => number): void {
  const count = geometry.getAttribute('position').count;
  const tiles = new Float32Array(count);
  for (let vertex = 0; vertex < count; vertex += 1) tiles[vertex] = tileOfVertex(vertex);
  geometry.setAttribute('matcapTile', new BufferAttribute(tiles, 1));
  if (!geometry.hasAttribute('color')) geometry.setAttribute('color', new Float32BufferAttribute(new Float32Array(count * 3).fill(1), 3));
}

/** A copy of `part` moved into place, with the atlas attributes only and no groups. */
function placed(part: PlacedPart): BufferGeometry {
  const geometry = part.geometry.clone();
  for (const name of Object.keys(geometry.attributes)) if (!(ATLAS_ATTRIBUTES as readonly string[]).includes(name)) geometry.deleteAttribute(name);
  if (!geometry.hasAttribute('matcapTile')) setAtlasAttributes(geometry, () => part.tile);
  geometry.clearGroups();
  const [x, y, z] = part.position ?? [0, 0, 0];
  const [rx, ry, rz] = part.rotation ?? [0, 0, 0];
  geometry.applyMatrix4(new Matrix4().compose(new Vector3(x, y, z), new Quaternion().setFromEuler(new Euler(rx, ry, rz)), new Vector3(1, 1, 1)));
  return geometry;
}

/** One indexed geometry of all `parts`, each in place with its tile: one draw for all of them. */
export function mergeAtlasParts(parts: readonly PlacedPart[]): BufferGeometry {
  const pieces = parts.map(placed);
  const merged = mergeGeometries(pieces, false);
  for (const piece of pieces) piece.dispose();
  if (!merged) throw new Error('the avatar parts could not be merged (their attributes differ)');
  merged.computeBoundingSphere();
  return merged;
}

/**
 * The triangles of an indexed geometry that shares its vertex buffers with another, as a geometry
 * of its own holding only the vertices they use (copied: they must be ones nothing moves).
 */
export function compactGeometry(geometry: BufferGeometry): BufferGeometry {
  const index = geometry.getIndex();
  if (!index) throw new Error('compactGeometry needs an indexed geometry');
  const remap = new Map<number, number>();
  const newIndex = new Uint32Array(index.count);
  for (let i = 0; i < index.count; i += 1) {
    const vertex = index.getX(i);
    let mapped = remap.get(vertex);
    if (mapped === undefined) {
      mapped = remap.size;
      remap.set(vertex, mapped);
    }
    newIndex[i] = mapped;
  }
  const compact = geometry.clone();
  for (const name of Object.keys(geometry.attributes)) {
    const source = geometry.getAttribute(name);
    const size = source.itemSize;
    const array = new Float32Array(remap.size * size);
    for (const [from, to] of remap) for (let k = 0; k < size; k += 1) array[to * size + k] = source.getComponent(from, k);
    compact.setAttribute(name, new BufferAttribute(array, size));
  }
  compact.setIndex(new BufferAttribute(newIndex, 1));
  compact.morphAttributes = {};
  return compact;
}

/**
 * Reorders a geometry's material groups into two draws: the groups `doubleSided` rejects first
 * (material 0), then the others (material 1). Same triangles, same vertices.
 */
export function splitBySide(geometry: BufferGeometry, doubleSided: (materialIndex: number) => boolean): void {
  const index = geometry.getIndex();
  if (!index) throw new Error('splitBySide needs an indexed geometry');
  const front: number[] = [];
  const both: number[] = [];
  for (const group of geometry.groups) {
    const into = doubleSided(group.materialIndex ?? 0) ? both : front;
    for (let i = group.start; i < group.start + group.count; i += 1) into.push(index.getX(i));
  }
  geometry.clearGroups();
  geometry.setIndex([...front, ...both]);
  if (front.length > 0) geometry.addGroup(0, front.length, 0);
  if (both.length > 0) geometry.addGroup(front.length, both.length, 1);
}
