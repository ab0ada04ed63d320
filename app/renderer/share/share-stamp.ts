/**
 * Measurement stamps drawn into shared frames when the app runs with `&shareStamp=1` (the `webrtc`
 * bench): the wall-clock capture time as 32 black/white cells in the top-left corner, and a white
 * flash block in the frames that carry an audible click, so a receiver on the same machine can
 * measure glass-to-glass latency and audio/video skew. Cells are large so VP8 keeps them legible.
 */
export const STAMP_LAYOUT = {
  bits: 32,
  cellPx: 20,
  /** The flash block sits under the bit row. */
  flashTopPx: 28,
  flashSizePx: 60,
} as const;

/** Wall-clock milliseconds modulo 2^32, the same on every page of one machine. */
export function wallClockMs32(nowMs: number = performance.now()): number {
  return Math.floor(performance.timeOrigin + nowMs) % 2 ** 32;
}

/** Draws the stamp of `valueMs32` and the flash block (white when `flash`). */
export function drawStamp(context: CanvasRenderingContext2D, valueMs32: number, flash: boolean): void {
  const { bits, cellPx, flashTopPx, flashSizePx } = STAMP_LAYOUT;
  for (let bit = 0; bit < bits; bit++) {
    context.fillStyle = Math.floor(valueMs32 / 2 ** (bits - 1 - bit)) % 2 === 1 ? '#fff' : '#000';
    context.fillRect(bit * cellPx, 0, cellPx, cellPx);
  }
  context.fillStyle = flash ? '#fff' : '#000';
  context.fillRect(0, flashTopPx, flashSizePx, flashSizePx);
}
