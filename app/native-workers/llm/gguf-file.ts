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

/** Thrown while parsing when the header runs past the end of the file. */
class HeaderTruncated extends Error {}
/** Thrown while parsing when the header holds values no writer produces. */
class HeaderCorrupt extends Error {}

/** Sequential little-endian reads over a file through a window buffer, so a header never loads whole. */
class FileCursor {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileBytes: number,
  ) {}

  private async ensure(bytes: number): Promise<void> {
    if (this.position + bytes > this.fileBytes) throw new HeaderTruncated();
    const windowEnd = this.windowStart + this.window.length;
    if (this.position >= this.windowStart && this.position + bytes <= windowEnd) return;
    const length = Math.min(Math.max(bytes, 1 << 20), this.fileBytes - this.position);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
    if (bytesRead < bytes) throw new HeaderTruncated();
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = this.position;
  }

  private async take(bytes: number): Promise<Buffer> {
    await this.ensure(bytes);
    const offset = this.position - this.windowStart;
    this.position += bytes;
    return this.window.subarray(offset, offset + bytes);
  }

  async u32(): Promise<number> {
    return (await this.take(4)).readUInt32LE(0);
  }

  async u64(): Promise<number> {
    const value = (await this.take(8)).readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new HeaderCorrupt(`a length of ${value} bytes`);
    return Number(value);
  }

  async string(): Promise<string> {
    const length = await this.u64();
    if (this.position + length > this.fileBytes) throw new HeaderTruncated();
    return (await this.take(length)).toString('utf8');
  }

  async skip(bytes: number): Promise<void> {
    if (this.position + bytes > this.fileBytes) throw new HeaderTruncated();
    this.position += bytes;
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
async function readValue(cursor: FileCursor, type: number): Promise<string | number | undefined> {
  if (type === TYPE_STRING) return cursor.string();
  if (type === 4) return cursor.u32();
  const scalarBytes = SCALAR_BYTES.get(type);
  if (scalarBytes !== undefined) {
    await cursor.skip(scalarBytes);
    return undefined;
  }
  if (type !== TYPE_ARRAY) throw new HeaderCorrupt(`unknown metadata value type ${type}`);
  const itemType = await cursor.u32();
  const count = await cursor.u64();
  const itemBytes = SCALAR_BYTES.get(itemType);
  if (itemBytes !== undefined) await cursor.skip(itemBytes * count);
  else if (itemType === TYPE_STRING) for (let i = 0; i < count; i++) await cursor.skip(await cursor.u64());
  else throw new HeaderCorrupt(`unsupported array item type ${itemType}`);
  return undefined;
}

async function parseHeader(path: string, handle: FileHandle, fileBytes: number): Promise<GgufSummary> {
  const cursor = new FileCursor(handle, fileBytes);
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, 0);
  if (!magic.equals(GGUF_MAGIC)) {
    throw invalid(path, `is not a GGUF model: it starts with ${describeBytes(magic)} instead of the GGUF magic "GGUF"`);
  }
  await cursor.skip(4);
  const version = await cursor.u32();
  if (version !== 2 && version !== 3) throw invalid(path, `has GGUF version ${version}; expected version 2 or 3`);
  const tensorCount = await cursor.u64();
  const metadataCount = await cursor.u64();
  if (tensorCount > MAX_COUNT || metadataCount > MAX_COUNT) throw new HeaderCorrupt(`${tensorCount} tensors and ${metadataCount} metadata keys`);

  let architecture: string | undefined;
  let alignment = DEFAULT_ALIGNMENT;
  let hasChatTemplate = false;
  for (let i = 0; i < metadataCount; i++) {
    const key = await cursor.string();
    const value = await readValue(cursor, await cursor.u32());
    if (key === 'general.architecture' && typeof value === 'string') architecture = value;
    else if (key === 'general.alignment' && typeof value === 'number' && value > 0) alignment = value;
    else if (key === 'tokenizer.chat_template' && typeof value === 'string') hasChatTemplate = value.length > 0;
  }

  const tensors: { offset: number; bytes: number | undefined; name: string }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await cursor.string();
    const dimCount = await cursor.u32();
    if (dimCount > 8) throw new HeaderCorrupt(`tensor "${name}" with ${dimCount} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < dimCount; d++) dims.push(await cursor.u64());
    const type = await cursor.u32();
    const offset = await cursor.u64();
    const block = GGML_BLOCKS.get(type);
    const elements = dims.reduce((product, dim) => product * dim, 1);
    tensors.push({ name, offset, bytes: block ? (elements / block[0]) * block[1] : undefined });
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
    return await parseHeader(path, handle, info.size);
  } catch (error) {
    if (error instanceof HeaderTruncated) throw invalid(path, `is truncated: its GGUF header runs past the end of the file (${info.size} bytes) — download it again`);
    if (error instanceof HeaderCorrupt) throw invalid(path, `has a corrupt GGUF header (${error.message})`);
    throw error;
  } finally {
    await handle.close();
  }
}
