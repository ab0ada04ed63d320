/**
 * Alpha-packed share frames (`&share=1&pack=alpha`). WebRTC video has no alpha channel, so the
 * sender puts two pictures of the preset's full size side by side in one frame twice as wide
 * (2560×720 for 720p30, 3840×1080 for 1080p60): on the left the avatar's colour premultiplied by its
 * alpha (composited over black), on the right its alpha as grey (white = opaque). The viewer page
 * (`/view?…&unpack=alpha`, or by itself when it sees such a frame) joins them into a transparent
 * canvas. Both halves keep the preset's resolution; the encoder pays for twice the pixels.
 */
export type SharePacking = 'none' | 'alpha';

/** `pack=alpha` in a page address; anything else is the plain frame. */
export function packingFromParam(value: string | null): SharePacking {
  return value === 'alpha' ? 'alpha' : 'none';
}

/** Width of the shared frame for a preset width. */
export function packedFrameWidth(presetWidth: number, packing: SharePacking): number {
  return packing === 'alpha' ? presetWidth * 2 : presetWidth;
}

/**
 * Whether a received frame is alpha-packed: two 16:9 halves make 32:9 (3.6), every plain preset is
 * 16:9 (1.8). The ratio survives the encoder scaling the frame down under load.
 */
export function looksAlphaPacked(width: number, height: number): boolean {
  return height > 0 && width / height > 2.7;
}
