/**
 * Measurement stamps drawn into shared frames when the app runs with `&shareStamp=1` (the `webrtc`
 * bench): the wall-clock capture time as 32 black/white cells in the top-left corner, so a receiver
 * on the same machine can measure glass-to-glass latency frame by frame. Cells are large so VP8
 * keeps them legible.
 */
export const STAMP_LAYOUT = { bits: 32, cellPx: 20 } as const;

/** Wall-clock milliseconds (performance.timeOrigin + now), the same clock on every page of one machine. */
export function wallClockMs(nowMs: number = performance.now()): number {
  return performance.timeOrigin + nowMs;
}

/** Draws `wallMs` modulo 2^32 as the stamp's bit cells, most significant first. */
export function drawStamp(context: CanvasRenderingContext2D, wallMs: number): void {
  const { bits, cellPx } = STAMP_LAYOUT;
  const value = Math.floor(wallMs) % 2 ** bits;
  for (let bit = 0; bit < bits; bit++) {
    context.fillStyle = Math.floor(value / 2 ** (bits - 1 - bit)) % 2 === 1 ? '#fff' : '#000';
    context.fillRect(bit * cellPx, 0, cellPx, cellPx);
  }
}
