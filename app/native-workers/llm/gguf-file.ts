import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * Checks a GGUF model file in plain TypeScript before llama.cpp sees it: existence, magic, version,
 * a header that parses to its end, and a file long enough for every tensor. llama.cpp's own errors
 * on such files are vague ("failed to load model"), and a clear message naming the file is what the
 * user needs to fix a bad download.
 */

/** What the header says about a GGUF file that passed the checks. */
export interface GgufSummary {
  version: number;
  architecture: string;
  tensorCount: number;
  metadataCount: number;
  /** Start of the tensor data section. */
  dataOffsetBytes: number;
  /** Smallest file size that holds every tensor whose type has a known size. */
  requiredBytes: number;
  fileBytes: number;
  hasChatTemplate: boolean;
}

const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');
const HEADER_BYTES = 24;
const DEFAULT_ALIGNMENT = 32;
// Far above any real model; larger counts mean the header is garbage, not a huge model.
const MAX_COUNT = 10_000_000;
const INITIAL_READ_BYTES = 4 << 20;
const MAX_HEADER_BYTES = 256 << 20;

// ggml type id → [elements per block, bytes per block] (ggml type_traits).
const GGML_BLOCKS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0, [1, 4]], // F32
  [1, [1, 2]], // F16
  [2, [32, 18]], // Q4_0
  [3, [32, 20]], // Q4_1
  [6, [32, 22]], // Q5_0
  [7, [32, 24]], // Q5_1
  [8, [32, 34]], // Q8_0
  [9, [32, 36]], // Q8_1
  [10, [256, 84]], // Q2_K
  [11, [256, 110]], // Q3_K
  [12, [256, 144]], // Q4_K
  [13, [256, 176]], // Q5_K
  [14, [256, 210]], // Q6_K
  [15, [256, 292]], // Q8_K
  [16, [256, 66]], // IQ2_XXS
  [17, [256, 74]], // IQ2_XS
  [18, [256, 98]], // IQ3_XXS
  [19, [256, 50]], // IQ1_S
  [20, [32, 18]], // IQ4_NL
  [21, [256, 110]], // IQ3_S
  [22, [256, 82]], // IQ2_S
  [23, [256, 136]], // IQ4_XS
  [24, [1, 1]], // I8
  [25, [1, 2]], // I16
  [26, [1, 4]], // I32
  [27, [1, 8]], // I64
  [28, [1, 8]], // F64
  [29, [256, 56]], // IQ1_M
  [30, [1, 2]], // BF16
  [34, [256, 54]], // TQ1_0
  [35, [256, 66]], // TQ2_0
  [39, [32, 17]], // MXFP4
]);

// GGUF metadata value types: fixed sizes of the scalar ones.
const SCALAR_BYTES: ReadonlyMap<number, number> = new Map([
  [0, 1], [1, 1], [2, 2], [3, 2], [4, 4], [5, 4], [6, 4], [7, 1], [10, 8], [11, 8], [12, 8],
]);
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;

/** Thrown while parsing when the header runs past the end of the bytes read so far. */
class NeedMoreBytes extends Error {}
/** Thrown while parsing when the header runs past the end of the file. */
class HeaderTruncated extends Error {}
/** Thrown while parsing when the header holds values no writer produces. */
class HeaderCorrupt extends Error {}

/** Sequential little-endian reads over the start of the file. */
class HeaderCursor {
  position = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly fileBytes: number,
  ) {}

  private take(length: number): Buffer {
    if (this.position + length > this.fileBytes) throw new HeaderTruncated();
    if (this.position + length > this.bytes.length) throw new NeedMoreBytes();
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  u32(): number {
    return this.take(4).readUInt32LE(0);
  }

  u64(): number {
    const value = this.take(8).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new HeaderCorrupt(`a length of ${value} bytes`);
    return Number(value);
  }

  string(): string {
    return this.take(this.u64()).toString('utf8');
  }

  skip(length: number): void {
    this.take(length);
  }
}

function describeBytes(bytes: Buffer): string {
  const printable = [...bytes].every((byte) => byte >= 0x20 && byte < 0x7f);
  return printable ? `"${bytes.toString('ascii')}"` : [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

function invalid(path: string, problem: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `Model file "${basename(path)}" ${problem} (${path}).`, false);
}

/** Reads a metadata value; returns it for strings and u32 scalars (the keys we need), else skips it. */
function readValue(cursor: HeaderCursor, type: number): string | number | undefined {
  if (type === TYPE_STRING) return cursor.string();
  if (type === 4) return cursor.u32();
  const scalarBytes = SCALAR_BYTES.get(type);
  if (scalarBytes !== undefined) {
    cursor.skip(scalarBytes);
    return undefined;
  }
  if (type !== TYPE_ARRAY) throw new HeaderCorrupt(`unknown metadata value type ${type}`);
  const itemType = cursor.u32();
  const count = cursor.u64();
  const itemBytes = SCALAR_BYTES.get(itemType);
  if (itemBytes !== undefined) cursor.skip(itemBytes * count);
  else if (itemType === TYPE_STRING) for (let i = 0; i < count; i++) cursor.skip(cursor.u64());
  else throw new HeaderCorrupt(`unsupported array item type ${itemType}`);
  return undefined;
}

/** Parses the header from the file's first bytes; throws NeedMoreBytes when they end too soon. */
function parseHeader(path: string, bytes: Buffer, fileBytes: number): GgufSummary {
  const cursor = new HeaderCursor(bytes, fileBytes);
  const magic = bytes.subarray(0, 4);
  if (!magic.equals(GGUF_MAGIC)) {
    throw invalid(path, `is not a GGUF model: it starts with ${describeBytes(magic)} instead of the GGUF magic "GGUF"`);
  }
  cursor.skip(4);
  const version = cursor.u32();
  if (version !== 2 && version !== 3) throw invalid(path, `has GGUF version ${version}; expected version 2 or 3`);
  const tensorCount = cursor.u64();
  const metadataCount = cursor.u64();
  if (tensorCount > MAX_COUNT || metadataCount > MAX_COUNT) throw new HeaderCorrupt(`${tensorCount} tensors and ${metadataCount} metadata keys`);

  let architecture: string | undefined;
  let alignment = DEFAULT_ALIGNMENT;
  let hasChatTemplate = false;
  for (let i = 0; i < metadataCount; i++) {
    const key = cursor.string();
    const value = readValue(cursor, cursor.u32());
    if (key === 'general.architecture' && typeof value === 'string') architecture = value;
    else if (key === 'general.alignment' && typeof value === 'number' && value > 0) alignment = value;
    else if (key === 'tokenizer.chat_template' && typeof value === 'string') hasChatTemplate = value.length > 0;
  }

  const tensors: { offset: number; bytes: number | undefined }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string();
    const dimCount = cursor.u32();
    if (dimCount > 8) throw new HeaderCorrupt(`tensor "${name}" with ${dimCount} dimensions`);
    let elements = 1;
    for (let d = 0; d < dimCount; d++) elements *= cursor.u64();
    const block = GGML_BLOCKS.get(cursor.u32());
    tensors.push({ offset: cursor.u64(), bytes: block ? (elements / block[0]) * block[1] : undefined });
  }

  if (!architecture) throw invalid(path, 'has no "general.architecture" key; expected a GGUF language model');
  const dataOffsetBytes = Math.ceil(cursor.position / alignment) * alignment;
  let requiredBytes = dataOffsetBytes;
  for (const tensor of tensors) requiredBytes = Math.max(requiredBytes, dataOffsetBytes + tensor.offset + (tensor.bytes ?? 1));
  if (requiredBytes > fileBytes) {
    throw invalid(path, `is truncated: its tensors need ${requiredBytes} bytes but the file has ${fileBytes} — download it again`);
  }
  return { version, architecture, tensorCount, metadataCount, dataOffsetBytes, requiredBytes, fileBytes, hasChatTemplate };
}

/** Reads ever larger prefixes of the file until the header parses (real headers are a few MB). */
async function readHeader(path: string, handle: FileHandle, fileBytes: number): Promise<GgufSummary> {
  const limitBytes = Math.min(fileBytes, MAX_HEADER_BYTES);
  for (let prefixBytes = Math.min(limitBytes, INITIAL_READ_BYTES); ; prefixBytes = Math.min(limitBytes, prefixBytes * 4)) {
    const bytes = Buffer.allocUnsafe(prefixBytes);
    const { bytesRead } = await handle.read(bytes, 0, prefixBytes, 0);
    if (bytesRead < prefixBytes) throw new HeaderTruncated();
    try {
      return parseHeader(path, bytes, fileBytes);
    } catch (error) {
      if (!(error instanceof NeedMoreBytes)) throw error;
      if (prefixBytes === limitBytes) throw new HeaderCorrupt(`a header larger than ${MAX_HEADER_BYTES >> 20} MB`);
    }
  }
}

/**
 * Validates the GGUF file at `path` and summarizes its header. Throws AppError `model_missing` when
 * there is no file and `model_invalid` (naming the file and what was expected) for anything else.
 */
export async function inspectGgufFile(path: string): Promise<GgufSummary> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new AppError(ErrorCode.ModelMissing, `Model file "${basename(path)}" was not found; expected a GGUF model at ${path}.`, false);
    }
    throw invalid(path, `cannot be read: ${error.message}`);
  });
  if (!info.isFile()) throw invalid(path, 'is not a file; expected a GGUF model file');
  if (info.size < HEADER_BYTES) {
    throw invalid(path, `is only ${info.size} bytes; a GGUF model needs at least its ${HEADER_BYTES}-byte header — the file is truncated or empty`);
  }
  const handle = await open(path, 'r').catch((error: Error) => {
    throw invalid(path, `cannot be opened: ${error.message}`);
  });
  try {
    return await readHeader(path, handle, info.size);
  } catch (error) {
    if (error instanceof HeaderTruncated) throw invalid(path, `is truncated: its GGUF header runs past the end of the file (${info.size} bytes) — download it again`);
    if (error instanceof HeaderCorrupt) throw invalid(path, `has a corrupt GGUF header (${error.message})`);
    throw error;
  } finally {
    await handle.close();
  }
}
