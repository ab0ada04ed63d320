import { BoxGeometry, BufferAttribute, BufferGeometry, SphereGeometry } from 'three';
import { describe, expect, it } from 'vitest';
import { compactGeometry, mergeAtlasParts, setAtlasAttributes, splitBySide } from '../../app/renderer/avatar/atlas-geometry';
import { buildFaceGeometry, FACE_MATERIALS } from '../../app/renderer/avatar/face-geometry';

const triangles = (geometry: BufferGeometry): number => geometry.getIndex()!.count / 3;

describe('atlas geometry (one draw for surfaces that move together)', () => {
  it('merges parts in place, each vertex with its tile and a colour', () => {
    const sphere = new SphereGeometry(1, 8, 6);
    const box = new BoxGeometry(1, 1, 1);
    const merged = mergeAtlasParts([
      { geometry: sphere, tile: 3 },
      { geometry: box, tile: 7, position: [0, 2, 0] },
    ]);
    expect(triangles(merged)).toBe(triangles(sphere) + triangles(box));
    expect(Object.keys(merged.attributes).sort()).toEqual(['color', 'matcapTile', 'normal', 'position']);
    expect(merged.groups).toEqual([]);
    const tiles = merged.getAttribute('matcapTile');
    const sphereVertices = sphere.getAttribute('position').count;
    expect(tiles.getX(0)).toBe(3);
    expect(tiles.getX(sphereVertices)).toBe(7);
    // The box was moved up by 2 and keeps its size.
    const boxY: number[] = [];
    for (let vertex = sphereVertices; vertex < tiles.count; vertex += 1) boxY.push(merged.getAttribute('position').getY(vertex));
    expect(Math.min(...boxY)).toBeCloseTo(1.5);
    expect(Math.max(...boxY)).toBeCloseTo(2.5);
    expect(merged.getAttribute('color').getX(0)).toBe(1);
  });

  it("copies the head's still triangles with the vertices they use, nothing moved", () => {
    const face = buildFaceGeometry();
    setAtlasAttributes(face.geometry, (vertex) => face.vertexMaterial[vertex]!);
    face.still.setAttribute('matcapTile', face.geometry.getAttribute('matcapTile'));
    const still = compactGeometry(face.still);
    expect(triangles(still)).toBe(triangles(face.still));
    expect(still.getAttribute('position').count).toBeLessThan(face.still.getAttribute('position').count);
    const sourceIndex = face.still.getIndex()!;
    const index = still.getIndex()!;
    for (let i = 0; i < index.count; i += 97) {
      for (const name of ['position', 'normal', 'color', 'matcapTile']) {
        const from = face.still.getAttribute(name);
        const to = still.getAttribute(name);
        for (let k = 0; k < from.itemSize; k += 1) expect(to.getComponent(index.getX(i), k)).toBe(from.getComponent(sourceIndex.getX(i), k));
      }
    }
  });

  it('splits the morphing head into front-faced and two-sided draws, losing no triangle', () => {
    const face = buildFaceGeometry();
    const before = triangles(face.geometry);
    const twoSided = new Set(['mouth', 'teeth', 'tongue', 'lash']);
    const isTwoSided = (material: number): boolean => twoSided.has(FACE_MATERIALS[material]!);
    const twoSidedTriangles = face.geometry.groups.filter((group) => isTwoSided(group.materialIndex!)).reduce((sum, group) => sum + group.count / 3, 0);
    splitBySide(face.geometry, isTwoSided);
    expect(triangles(face.geometry)).toBe(before);
    expect(face.geometry.groups).toEqual([
      { start: 0, count: (before - twoSidedTriangles) * 3, materialIndex: 0 },
      { start: (before - twoSidedTriangles) * 3, count: twoSidedTriangles * 3, materialIndex: 1 },
    ]);
    // Every two-sided triangle's vertices belong to a two-sided surface.
    const index = face.geometry.getIndex()!;
    for (let i = (before - twoSidedTriangles) * 3; i < index.count; i += 1) expect(isTwoSided(face.vertexMaterial[index.getX(i)]!)).toBe(true);
  });

  it('refuses to compact a geometry without an index', () => {
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(new Float32Array(9), 3));
    expect(() => compactGeometry(geometry)).toThrow(/indexed/);
  });
});
