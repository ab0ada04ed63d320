/**
 * Dynamic time warping between two feature sequences (row-major frames × dims), within a band
 * around the diagonal so long clips stay in bounded memory: only the step directions are kept.
 */

export interface DtwOptions {
  /** Band half-width: at least this many frames… */
  minBandFrames: number;
  /** …or this share of the longer sequence, whichever is larger. */
  bandShare: number;
  /** Extra cost of a step that advances only one sequence (discourages degenerate stretches). */
  stretchPenalty: number;
}

export const DEFAULT_DTW_OPTIONS: DtwOptions = { minBandFrames: 150, bandShare: 0.2, stretchPenalty: 0 };

/** Frame pairs (a[i], b[j]) of the optimal path, from (0, 0) to the last frames, monotone in both. */
export interface DtwPath {
  a: Int32Array;
  b: Int32Array;
  /** Mean local distance along the path. */
  meanCost: number;
}

const DIAGONAL = 0;
const ADVANCE_A = 1;
const ADVANCE_B = 2;

function distance(a: Float32Array, aIndex: number, b: Float32Array, bIndex: number, dims: number): number {
  let sum = 0;
  const aOffset = aIndex * dims;
  const bOffset = bIndex * dims;
  for (let d = 0; d < dims; d++) {
    const diff = a[aOffset + d]! - b[bOffset + d]!;
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/** The DTW path between `a` (`aCount` frames) and `b` (`bCount` frames) of `dims` values each. */
export function dtwPath(
  a: Float32Array,
  aCount: number,
  b: Float32Array,
  bCount: number,
  dims: number,
  options: DtwOptions = DEFAULT_DTW_OPTIONS,
): DtwPath {
  if (aCount === 0 || bCount === 0) return { a: new Int32Array(0), b: new Int32Array(0), meanCost: 0 };
  const band = Math.max(options.minBandFrames, Math.ceil(options.bandShare * Math.max(aCount, bCount)));
  const slope = aCount > 1 ? (bCount - 1) / (aCount - 1) : 0;
  const rowStart = new Int32Array(aCount);
  const rowEnd = new Int32Array(aCount);
  const rowOffset = new Int32Array(aCount + 1);
  for (let i = 0; i < aCount; i++) {
    rowStart[i] = Math.max(0, Math.floor(i * slope - band));
    rowEnd[i] = Math.min(bCount, Math.ceil(i * slope + band) + 1);
    rowOffset[i + 1] = rowOffset[i]! + rowEnd[i]! - rowStart[i]!;
  }
  const steps = new Uint8Array(rowOffset[aCount]!);
  let previous = new Float64Array(bCount).fill(Number.POSITIVE_INFINITY);
  let current = new Float64Array(bCount).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < aCount; i++) {
    current.fill(Number.POSITIVE_INFINITY);
    for (let j = rowStart[i]!; j < rowEnd[i]!; j++) {
      const local = distance(a, i, b, j, dims);
      let best: number;
      let step: number;
      if (i === 0 && j === 0) {
        best = 0;
        step = DIAGONAL;
      } else {
        const diagonal = i > 0 && j > 0 ? previous[j - 1]! : Number.POSITIVE_INFINITY;
        const fromA = i > 0 ? previous[j]! + options.stretchPenalty : Number.POSITIVE_INFINITY;
        const fromB = j > 0 ? current[j - 1]! + options.stretchPenalty : Number.POSITIVE_INFINITY;
        best = diagonal;
        step = DIAGONAL;
        if (fromA < best) {
          best = fromA;
          step = ADVANCE_A;
        }
        if (fromB < best) {
          best = fromB;
          step = ADVANCE_B;
        }
      }
      current[j] = best + local;
      steps[rowOffset[i]! + j - rowStart[i]!] = step;
    }
    [previous, current] = [current, previous];
  }
  const total = previous[bCount - 1]!;
  const pathA: number[] = [];
  const pathB: number[] = [];
  let i = aCount - 1;
  let j = bCount - 1;
  for (;;) {
    pathA.push(i);
    pathB.push(j);
    if (i === 0 && j === 0) break;
    const step = j >= rowStart[i]! && j < rowEnd[i]! ? steps[rowOffset[i]! + j - rowStart[i]!]! : DIAGONAL;
    if (i === 0) j--;
    else if (j === 0) i--;
    else if (step === DIAGONAL) {
      i--;
      j--;
    } else if (step === ADVANCE_A) i--;
    else j--;
  }
  pathA.reverse();
  pathB.reverse();
  return { a: Int32Array.from(pathA), b: Int32Array.from(pathB), meanCost: total / pathA.length };
}
