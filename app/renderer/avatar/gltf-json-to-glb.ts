import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * A self-contained `.gltf` (JSON with base64 `data:` buffers) as one GLB in memory. The page's CSP
 * lets the loader fetch neither `data:` nor other files, and a dropped file has no folder to
 * resolve relative URIs against, so buffers are decoded here; external files are refused in words.
 */
export function gltfJsonToGlb(text: string, fileName: string): ArrayBuffer {
  let json: { buffers?: { uri?: string; byteLength: number }[]; bufferViews?: { buffer: number; byteOffset?: number }[]; images?: { uri?: string }[] };
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError(ErrorCode.ModelInvalid, `"${fileName}" is not a valid glTF file (its JSON does not parse).`, true);
  }
  const external = [...(json.buffers ?? []), ...(json.images ?? [])].find((item) => item.uri !== undefined && !item.uri.startsWith('data:'));
  if (external) {
    throw new AppError(
      ErrorCode.ModelInvalid,
      `"${fileName}" refers to another file (${external.uri}); export it as one .glb (or a .gltf with embedded data) and load that.`,
      true,
    );
  }
  // Concatenate every buffer (4-byte aligned) and point the buffer views at the merged one.
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let total = 0;
  for (const buffer of json.buffers ?? []) {
    const comma = buffer.uri?.indexOf(',') ?? -1;
    if (!buffer.uri || comma < 0 || !buffer.uri.slice(0, comma).endsWith(';base64')) {
      throw new AppError(ErrorCode.ModelInvalid, `"${fileName}" has a buffer without base64 data.`, true);
    }
    const bytes = Uint8Array.from(atob(buffer.uri.slice(comma + 1)), (char) => char.charCodeAt(0));
    offsets.push(total);
    parts.push(bytes);
    total += Math.ceil(bytes.byteLength / 4) * 4;
  }
  for (const view of json.bufferViews ?? []) {
    view.byteOffset = (view.byteOffset ?? 0) + (offsets[view.buffer] ?? 0);
    view.buffer = 0;
  }
  json.buffers = total > 0 ? [{ byteLength: total }] : [];

  const encoded = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = Math.ceil(encoded.byteLength / 4) * 4;
  const glb = new Uint8Array(12 + 8 + jsonLength + (total > 0 ? 8 + total : 0));
  const view = new DataView(glb.buffer);
  view.setUint32(0, 0x46546c67, true); // "glTF"
  view.setUint32(4, 2, true);
  view.setUint32(8, glb.byteLength, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, 0x4e4f534a, true); // "JSON"
  glb.fill(0x20, 20, 20 + jsonLength);
  glb.set(encoded, 20);
  if (total > 0) {
    const binStart = 20 + jsonLength;
    view.setUint32(binStart, total, true);
    view.setUint32(binStart + 4, 0x004e4942, true); // "BIN\0"
    parts.forEach((part, index) => glb.set(part, binStart + 8 + offsets[index]!));
  }
  return glb.buffer;
}
