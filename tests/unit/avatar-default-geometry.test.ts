import type { BufferAttribute, BufferGeometry } from 'three';
import { describe, expect, it } from 'vitest';
import { buildHairGeometry } from '../../app/renderer/avatar/body-geometry';
import { CpuMorpher } from '../../app/renderer/avatar/cpu-morph';
import { buildFaceGeometry } from '../../app/renderer/avatar/face-geometry';
import { MORPH_TARGETS } from '../../app/renderer/avatar/face-params';
import { crowd } from '../../app/renderer/avatar/head-grid';

const face = buildFaceGeometry();

function triangles(geometry: BufferGeometry): number {
  return geometry.getIndex()!.count / 3;
}

function referenced(geometry: BufferGeometry): Set<number> {
  return new Set(Array.from(geometry.getIndex()!.array));
}

describe('the default avatar head', () => {
  it('keeps every morph target, in MORPH_TARGETS order, on the morphing part', () => {
    expect(face.morphTargetNames).toEqual(Object.keys(MORPH_TARGETS));
    expect(face.geometry.morphAttributes.position!.map((attribute) => attribute.name)).toEqual(face.morphTargetNames);
    expect(face.geometry.morphAttributes.normal).toHaveLength(face.morphTargetNames.length);
    expect(face.still.morphAttributes.position).toBeUndefined();
  });

  it('draws the still part only with vertices no morph target moves, so both parts always meet without a seam', () => {
    const still = referenced(face.still);
    expect(still.size).toBeGreaterThan(100);
    const deltas = [...face.geometry.morphAttributes.position!, ...face.geometry.morphAttributes.normal!];
    for (const vertex of still) {
      for (const attribute of deltas) {
        expect([attribute.getX(vertex), attribute.getY(vertex), attribute.getZ(vertex)]).toEqual([0, 0, 0]);
      }
    }
    // The morphing part does move: the jaw opens.
    const jawOpen = face.geometry.morphAttributes.position![face.morphTargetNames.indexOf('jawOpen')]!;
    const moved = [...referenced(face.geometry)].filter((vertex) => Math.abs(jawOpen.getY(vertex)) > 0.01);
    expect(moved.length).toBeGreaterThan(100);
  });

  it('fits the software-GL triangle budget (head 10 k, hair 6 k: the built-in avatar was 82 k in all)', () => {
    expect(triangles(face.geometry) + triangles(face.still)).toBeLessThan(10_000);
    expect(triangles(buildHairGeometry())).toBeLessThan(6_000);
  });
});

describe('CpuMorpher', () => {
  it('shapes the face in JavaScript as the GPU would: neutral plus the weighted deltas, the still part untouched', () => {
    const built = buildFaceGeometry();
    const geometry = built.geometry;
    const neutral = Float32Array.from(geometry.getAttribute('position').array);
    const neutralNormal = Float32Array.from(geometry.getAttribute('normal').array);
    const positionDeltas = geometry.morphAttributes.position!.map((attribute) => attribute.array as Float32Array);
    const normalDeltas = geometry.morphAttributes.normal!.map((attribute) => attribute.array as Float32Array);
    const morpher = new CpuMorpher(geometry);
    expect(geometry.morphAttributes.position).toBeUndefined();

    const weights = built.morphTargetNames.map(() => 0);
    const aa = built.morphTargetNames.indexOf('viseme_aa');
    const blink = built.morphTargetNames.indexOf('eyeBlinkLeft');
    weights[aa] = 0.7;
    weights[blink] = 0.4;
    morpher.apply(weights);

    const position = geometry.getAttribute('position') as BufferAttribute;
    const normal = geometry.getAttribute('normal') as BufferAttribute;
    for (let i = 0; i < neutral.length; i += 1) {
      expect(position.array[i]).toBeCloseTo(neutral[i]! + 0.7 * positionDeltas[aa]![i]! + 0.4 * positionDeltas[blink]![i]!, 6);
      expect(normal.array[i]).toBeCloseTo(neutralNormal[i]! + 0.7 * normalDeltas[aa]![i]! + 0.4 * normalDeltas[blink]![i]!, 6);
    }
    for (const vertex of referenced(built.still)) expect(position.getY(vertex)).toBe(neutral[vertex * 3 + 1]);
    expect(position.version).toBeGreaterThan(0);

    // The same weights again: nothing to upload.
    const version = position.version;
    morpher.apply([...weights]);
    expect(position.version).toBe(version);
    // Back to neutral.
    morpher.apply(built.morphTargetNames.map(() => 0));
    for (let i = 0; i < neutral.length; i += 1) expect(position.array[i]).toBeCloseTo(neutral[i]!, 6);
  });
});

describe('crowd', () => {
  it('keeps both ends, never folds, and packs grid lines around the centre', () => {
    expect(crowd(0, 0.3, 0.55)).toBeCloseTo(0, 12);
    expect(crowd(1, 0.3, 0.55)).toBeCloseTo(1, 12);
    let previous = -Infinity;
    for (let t = 0; t <= 1; t += 1 / 64) {
      const value = crowd(t, 0.3, 0.55);
      expect(value).toBeGreaterThan(previous);
      previous = value;
    }
    const step = 1 / 64;
    const atCentre = crowd(0.3 + step, 0.3, 0.55) - crowd(0.3, 0.3, 0.55);
    const opposite = crowd(0.8 + step, 0.3, 0.55) - crowd(0.8, 0.3, 0.55);
    expect(atCentre).toBeLessThan(step * 0.5);
    expect(opposite).toBeGreaterThan(step * 1.5);
  });
});
