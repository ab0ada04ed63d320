import type { BufferAttribute, BufferGeometry } from 'three';

/**
 * Morph targets applied in JavaScript instead of the vertex shader, for software GL: there the
 * "GPU" is the CPU too, and three.js's shader loops over every target for every vertex of every
 * draw, while this touches only the vertices some target moves, only for the targets in use, and
 * only when a weight changed. Takes the (relative) morph attributes off the geometry.
 */
export class CpuMorpher {
  private readonly position: BufferAttribute;
  private readonly normal: BufferAttribute;
  private readonly neutralPosition: Float32Array;
  private readonly neutralNormal: Float32Array;
  private readonly positionDeltas: Float32Array[];
  private readonly normalDeltas: Float32Array[];
  /** Vertices some target moves, ascending. */
  private readonly moving: Uint32Array;
  private readonly lastWeights: Float64Array;

  constructor(geometry: BufferGeometry) {
    this.position = geometry.getAttribute('position') as BufferAttribute;
    this.normal = geometry.getAttribute('normal') as BufferAttribute;
    this.neutralPosition = Float32Array.from(this.position.array);
    this.neutralNormal = Float32Array.from(this.normal.array);
    this.positionDeltas = (geometry.morphAttributes.position ?? []).map((attribute) => attribute.array as Float32Array);
    this.normalDeltas = (geometry.morphAttributes.normal ?? []).map((attribute) => attribute.array as Float32Array);
    const moving: number[] = [];
    for (let vertex = 0; vertex < this.position.count; vertex += 1) {
      const at = vertex * 3;
      if ([...this.positionDeltas, ...this.normalDeltas].some((deltas) => deltas[at] !== 0 || deltas[at + 1] !== 0 || deltas[at + 2] !== 0)) moving.push(vertex);
    }
    this.moving = Uint32Array.from(moving);
    this.lastWeights = new Float64Array(this.positionDeltas.length).fill(Number.NaN);
    geometry.morphAttributes = {};
  }

  /** Sets the shape for these weights (in morph attribute order); a no-op when none changed. */
  apply(weights: ArrayLike<number>): void {
    let changed = false;
    for (let target = 0; target < this.lastWeights.length; target += 1) {
      if (weights[target] !== this.lastWeights[target]) changed = true;
      this.lastWeights[target] = weights[target] ?? 0;
    }
    if (!changed || this.moving.length === 0) return;
    const active: number[] = [];
    for (let target = 0; target < this.lastWeights.length; target += 1) if (this.lastWeights[target] !== 0) active.push(target);
    const position = this.position.array as Float32Array;
    const normal = this.normal.array as Float32Array;
    for (const vertex of this.moving) {
      const at = vertex * 3;
      let px = this.neutralPosition[at]!;
      let py = this.neutralPosition[at + 1]!;
      let pz = this.neutralPosition[at + 2]!;
      let nx = this.neutralNormal[at]!;
      let ny = this.neutralNormal[at + 1]!;
      let nz = this.neutralNormal[at + 2]!;
      for (const target of active) {
        const weight = this.lastWeights[target]!;
        const dp = this.positionDeltas[target]!;
        const dn = this.normalDeltas[target];
        px += dp[at]! * weight;
        py += dp[at + 1]! * weight;
        pz += dp[at + 2]! * weight;
        if (dn) {
          nx += dn[at]! * weight;
          ny += dn[at + 1]! * weight;
          nz += dn[at + 2]! * weight;
        }
      }
      position[at] = px;
      position[at + 1] = py;
      position[at + 2] = pz;
      normal[at] = nx;
      normal[at + 1] = ny;
      normal[at + 2] = nz;
    }
    // Upload only the span the moving vertices cover.
    const first = this.moving[0]! * 3;
    const count = (this.moving[this.moving.length - 1]! + 1) * 3 - first;
    for (const attribute of [this.position, this.normal]) {
      attribute.clearUpdateRanges();
      attribute.addUpdateRange(first, count);
      attribute.needsUpdate = true;
    }
  }
}
