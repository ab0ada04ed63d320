/** The pixel size an image declares in its header, without decoding it. */
export interface ImageSize {
  format: 'png' | 'jpeg' | 'webp' | 'ktx2';
  widthPx: number;
  heightPx: number;
  /** Layers × faces × depth slices (KTX2 arrays, cube maps, 3D textures); 1 for plain images. */
  slices: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const KTX2_IDENTIFIER = [0xab, 0x4b, 0x54, 0x58, 0x20, 0x32, 0x30, 0xbb, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return bytes.length >= at + prefix.length && prefix.every((byte, index) => bytes[at + index] === byte);
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function pngSize(bytes: Uint8Array, view: DataView): ImageSize | null {
  // The first chunk is IHDR: width and height, big-endian, right after its length and type.
  if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') return null;
  return { format: 'png', widthPx: view.getUint32(16), heightPx: view.getUint32(20), slices: 1 };
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8) or DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(bytes: Uint8Array, view: DataView): ImageSize | null {
  // Walk the segments (marker, big-endian length) to the first start-of-frame header.
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
    const length = view.getUint16(at + 2);
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) return null;
      return { format: 'jpeg', heightPx: view.getUint16(at + 5), widthPx: view.getUint16(at + 7), slices: 1 };
    }
    if (length < 2) return null;
    at += 2 + length;
  }
  return null;
}

function webpSize(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 30) return null;
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8X') {
    // Canvas size minus one, 24-bit little-endian.
    const width = 1 + (view.getUint16(24, true) | (bytes[26]! << 16));
    const height = 1 + (view.getUint16(27, true) | (bytes[29]! << 16));
    return { format: 'webp', widthPx: width, heightPx: height, slices: 1 };
  }
  if (chunk === 'VP8L') {
    // Lossless: signature 0x2f, then width-1 and height-1 in 14 bits each.
    if (bytes[20] !== 0x2f) return null;
    const bits = view.getUint32(21, true);
    return { format: 'webp', widthPx: 1 + (bits & 0x3fff), heightPx: 1 + ((bits >>> 14) & 0x3fff), slices: 1 };
  }
  if (chunk === 'VP8 ') {
    // Lossy: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height.
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null;
    return { format: 'webp', widthPx: view.getUint16(26, true) & 0x3fff, heightPx: view.getUint16(28, true) & 0x3fff, slices: 1 };
  }
  return null;
}

function ktx2Size(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 44) return null;
  const depth = Math.max(1, view.getUint32(28, true));
  const layers = Math.max(1, view.getUint32(32, true));
  const faces = Math.max(1, view.getUint32(36, true));
  return { format: 'ktx2', widthPx: view.getUint32(20, true), heightPx: Math.max(1, view.getUint32(24, true)), slices: depth * layers * faces };
}

/**
 * The size a PNG, JPEG, WebP or KTX2 image declares (read from its header, whatever the file
 * claims its type is); null for other formats or a header too short or damaged to tell.
 */
export function readImageSize(bytes: Uint8Array): ImageSize | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) return pngSize(bytes, view);
  if (startsWith(bytes, [0xff, 0xd8])) return jpegSize(bytes, view);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return webpSize(bytes, view);
  if (startsWith(bytes, KTX2_IDENTIFIER)) return ktx2Size(bytes, view);
  return null;
}
