/** Shared helpers of the default avatar's head surfaces: smooth steps, grid crowding, the hairline. */

export function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * Past this azimuth (0 = the face) the head's surface faces away from the stage camera at any head
 * turn the idle motion makes (at most about 10°).
 */
export const HIDDEN_AZIMUTH = (125 * Math.PI) / 180;

/**
 * Re-spaces a grid coordinate `t` ∈ [0, 1] so that grid lines crowd around `centre` (spacing
 * × (1 − strength) there, × (1 + strength) opposite it). Keeps 0 ↦ 0 and 1 ↦ 1 and is smooth
 * across a wrapped seam, so a sphere spends its vertices on the face, not on the back of the skull.
 */
export function crowd(t: number, centre: number, strength: number): number {
  return t - (strength / (2 * Math.PI)) * (Math.sin(2 * Math.PI * (t - centre)) + Math.sin(2 * Math.PI * centre));
}

/**
 * How much hair grows at a unit-sphere direction of the head (0 bare skin … 1 hair): high on the
 * forehead with a wavy fringe swept to one side, over the ears, low at the nape.
 */
export function hairCover(sx: number, sy: number, sz: number): number {
  const azimuth = Math.atan2(sx, sz); // 0 at the face, ±π at the back
  const back = (1 - Math.cos(azimuth)) / 2;
  const fringe = (1 - back) ** 2 * (0.06 * Math.sin(azimuth * 9 + 0.6) + 0.12 * Math.tanh(azimuth * 1.6));
  const overEars = Math.exp(-(((Math.abs(azimuth) - 1.5) / 0.35) ** 2)) * 0.2;
  const hairline = 0.5 - 1.05 * back ** 0.8 + fringe + overEars;
  return smoothstep(hairline - 0.05, hairline + 0.05, sy);
}
