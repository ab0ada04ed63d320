import { PNG } from 'pngjs';

/** RGBA pixels of a PNG (a screenshot taken with `omitBackground`, so alpha is kept, not premultiplied). */
export interface PngPixels {
  width: number;
  height: number;
  data: Uint8Array;
  /** Alpha at (x, y). */
  alpha(x: number, y: number): number;
  /** RGBA at (x, y). */
  rgba(x: number, y: number): number[];
}

/** Decodes a PNG in this process (pngjs): no page needed to read a screenshot's pixels. */
export function decodePng(png: Buffer): PngPixels {
  const { width, height, data } = PNG.sync.read(png);
  const at = (x: number, y: number): number => (y * width + x) * 4;
  return {
    width,
    height,
    data,
    alpha: (x, y) => data[at(x, y) + 3]!,
    rgba: (x, y) => [...data.subarray(at(x, y), at(x, y) + 4)],
  };
}
