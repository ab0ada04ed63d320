import { open } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { ModelFormat } from '../../shared/catalog.contract';

const headerBytes = 64;

/** Reads a varint at `offset`; returns [value, next offset] or null when malformed. */
function readVarint(bytes: Uint8Array, offset: number): [number, number] | null {
  let value = 0;
  for (let i = 0; i < 5 && offset + i < bytes.length; i++) {
    const byte = bytes[offset + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [value, offset + i + 1];
  }
  return null;
}

/**
 * An ONNX file is a protobuf ModelProto. Exporters write `ir_version` (field 1, varint) first;
 * the next field must be one ModelProto has as length-delimited (producer, domain, graph, opset…).
 */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x08) return false;
  const irVersion = readVarint(bytes, 1);
  if (!irVersion || irVersion[0] < 1 || irVersion[0] > 32) return false;
  const nextTag = bytes[irVersion[1]];
  if (nextTag === undefined) return false;
  const field = nextTag >> 3;
  const wireType = nextTag & 0x07;
  return wireType === 2 && [2, 3, 4, 6, 7, 8, 14, 20, 25].includes(field);
}

function looksLikeJson(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString('utf8').trimStart();
  return text.startsWith('{');
}

/** Detects a model file's format from its first bytes; null when it is none of ours. */
export function detectFormat(bytes: Uint8Array): ModelFormat | null {
  if (bytes.length >= 4) {
    if (bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46) return ModelFormat.Gguf;
    // whisper.cpp writes the int32 0x67676d6c little-endian: "lmgg".
    if (bytes[0] === 0x6c && bytes[1] === 0x6d && bytes[2] === 0x67 && bytes[3] === 0x67) return ModelFormat.WhisperGgml;
  }
  if (looksLikeOnnx(bytes)) return ModelFormat.Onnx;
  if (looksLikeJson(bytes)) return ModelFormat.Json;
  return null;
}

/** Reads the head of `path` and detects its format; AppError(model_missing) when unreadable. */
export async function detectFileFormat(path: string): Promise<ModelFormat | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new AppError(ErrorCode.ModelMissing, `Cannot open the model file ${path}.`, false, { cause: error });
  }
  try {
    const buffer = Buffer.alloc(headerBytes);
    const { bytesRead } = await handle.read(buffer, 0, headerBytes, 0);
    return detectFormat(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Words for a format, for messages. */
export function describeFormat(format: ModelFormat): string {
  switch (format) {
    case ModelFormat.Gguf:
      return 'a GGUF model (llama.cpp)';
    case ModelFormat.WhisperGgml:
      return 'a whisper.cpp ggml model';
    case ModelFormat.Onnx:
      return 'an ONNX model';
    case ModelFormat.Json:
      return 'a JSON file';
  }
}
