/**
 * Wire format for messages that carry PCM: one binary frame =
 * `u32 headerBytes (LE)` · header JSON (UTF-8, space-padded to a multiple of 4) · raw Float32 samples.
 * The padding keeps the samples 4-byte aligned so the receiver views them without copying.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A message whose `pcm` field is sent as raw samples. */
export interface PcmMessage {
  pcm: Float32Array;
  [key: string]: unknown;
}

export function hasPcm(message: object): message is PcmMessage {
  return (message as { pcm?: unknown }).pcm instanceof Float32Array;
}

export function encodeBinaryFrame(message: PcmMessage): Uint8Array {
  const { pcm, ...header } = message;
  let json = JSON.stringify(header);
  const raw = encoder.encode(json);
  const padded = Math.ceil(raw.byteLength / 4) * 4;
  if (padded !== raw.byteLength) json += ' '.repeat(padded - raw.byteLength);
  const frame = new Uint8Array(4 + padded + pcm.byteLength);
  new DataView(frame.buffer).setUint32(0, padded, true);
  frame.set(encoder.encode(json), 4);
  frame.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), 4 + padded);
  return frame;
}

/** Decodes a frame into a plain object with `pcm`; throws a descriptive Error on malformed input. */
export function decodeBinaryFrame(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength < 4) throw new Error('binary frame shorter than its 4-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(0, true);
  if (headerBytes % 4 !== 0 || 4 + headerBytes > bytes.byteLength) {
    throw new Error(`binary frame header length ${headerBytes} does not fit a ${bytes.byteLength}-byte frame`);
  }
  const pcmBytes = bytes.byteLength - 4 - headerBytes;
  if (pcmBytes % 4 !== 0) throw new Error(`binary frame payload of ${pcmBytes} bytes is not whole Float32 samples`);
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerBytes)));
  } catch {
    throw new Error('binary frame header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('binary frame header is not a JSON object');
  }
  // Copy when unaligned (a Node Buffer slice may start anywhere); view in place otherwise.
  const start = bytes.byteOffset + 4 + headerBytes;
  const pcm =
    start % 4 === 0
      ? new Float32Array(bytes.buffer, start, pcmBytes / 4)
      : new Float32Array(bytes.slice(4 + headerBytes).buffer);
  return { ...(header as Record<string, unknown>), pcm };
}
