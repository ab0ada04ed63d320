/**
 * Reader for CTranslate2's `model.bin` (binary versions 4–6; little-endian, no padding):
 * `u32 version · string spec · u32 revision · u32 n · n × (string name · u8 rank · u32 dims[rank] ·
 * u8 dtype · u32 nbytes · data) · u32 n_aliases · n × (string alias · string target)`,
 * where `string` = u16 length including a trailing NUL, then the bytes and the NUL.
 */
import { AppError, ErrorCode } from '../../../shared/errors.contract';
import { fromHalfArray } from './half-float';

/** CTranslate2 `DataType` ids as stored in the file. */
export const Ct2DType = { F32: 0, I8: 1, I16: 2, I32: 3, F16: 4, BF16: 5 } as const;
export type Ct2DType = (typeof Ct2DType)[keyof typeof Ct2DType];

const DTYPE_BYTES: Record<Ct2DType, number> = { 0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2 };
const MIN_BINARY_VERSION = 4;
const MAX_BINARY_VERSION = 6;

export interface Ct2Variable {
  name: string;
  shape: number[];
  dtype: Ct2DType;
  /** Raw little-endian element data (a view into the file bytes). */
  data: Uint8Array;
}

export interface Ct2Model {
  binaryVersion: number;
  specName: string;
  specRevision: number;
  variables: Map<string, Ct2Variable>;
  /** alias name → target variable name */
  aliases: Map<string, string>;
}

function invalid(message: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `CTranslate2 model.bin: ${message}`, false);
}

class Cursor {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  private need(count: number, what: string): void {
    if (count > this.remaining) throw invalid(`truncated while reading ${what} at byte ${this.offset}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  bytesView(count: number, what: string): Uint8Array {
    this.need(count, what);
    const view = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return view;
  }

  string(what: string): string {
    const length = this.u16(`${what} length`);
    if (length === 0) throw invalid(`empty string for ${what} at byte ${this.offset}`);
    const raw = this.bytesView(length, what);
    if (raw[length - 1] !== 0) throw invalid(`${what} is not NUL-terminated at byte ${this.offset - 1}`);
    return new TextDecoder('utf-8', { fatal: true }).decode(raw.subarray(0, length - 1));
  }
}

/** Parses a whole `model.bin`. Variable data are views into `bytes` (nothing is copied). */
export function parseCt2Model(bytes: Uint8Array): Ct2Model {
  const cursor = new Cursor(bytes);
  const binaryVersion = cursor.u32('binary version');
  if (binaryVersion < MIN_BINARY_VERSION || binaryVersion > MAX_BINARY_VERSION) {
    throw invalid(`unsupported binary version ${binaryVersion} (supported ${MIN_BINARY_VERSION}–${MAX_BINARY_VERSION})`);
  }
  const specName = cursor.string('spec name');
  const specRevision = cursor.u32('spec revision');
  const count = cursor.u32('variable count');
  const variables = new Map<string, Ct2Variable>();
  for (let index = 0; index < count; index++) {
    const name = cursor.string(`variable #${index} name`);
    const rank = cursor.u8(`${name} rank`);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(cursor.u32(`${name} dim ${d}`));
    const dtype = cursor.u8(`${name} dtype`);
    if (!(dtype in DTYPE_BYTES)) throw invalid(`${name}: unknown dtype id ${dtype}`);
    const byteCount = cursor.u32(`${name} byte count`);
    const elementCount = shape.reduce((a, b) => a * b, 1);
    if (elementCount * DTYPE_BYTES[dtype as Ct2DType] !== byteCount) {
      throw invalid(`${name}: ${byteCount} bytes do not match shape [${shape.join(', ')}] of dtype ${dtype}`);
    }
    variables.set(name, { name, shape, dtype: dtype as Ct2DType, data: cursor.bytesView(byteCount, name) });
  }
  const aliases = new Map<string, string>();
  const aliasCount = cursor.u32('alias count');
  for (let index = 0; index < aliasCount; index++) {
    const alias = cursor.string(`alias #${index}`);
    aliases.set(alias, cursor.string(`alias #${index} target`));
  }
  if (cursor.remaining !== 0) throw invalid(`${cursor.remaining} unexpected trailing bytes at ${cursor.position}`);
  return { binaryVersion, specName, specRevision, variables, aliases };
}

/** Copies `data` into a fresh buffer (file offsets are not aligned for typed-array views). */
function aligned(data: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy.buffer;
}

function rawToFloat32(variable: Ct2Variable): Float32Array {
  const buffer = aligned(variable.data);
  switch (variable.dtype) {
    case Ct2DType.F32:
      return new Float32Array(buffer);
    case Ct2DType.F16:
      return fromHalfArray(new Uint16Array(buffer));
    case Ct2DType.BF16: {
      const halves = new Uint16Array(buffer);
      const words = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) words[i] = (halves[i] ?? 0) << 16;
      return new Float32Array(words.buffer);
    }
    case Ct2DType.I8:
      return Float32Array.from(new Int8Array(buffer));
    case Ct2DType.I16:
      return Float32Array.from(new Int16Array(buffer));
    case Ct2DType.I32:
      return Float32Array.from(new Int32Array(buffer));
  }
}

/** A rank-0 integer variable's value (metadata such as `encoder/num_heads`). */
export function readScalarInt(model: Ct2Model, name: string): number {
  const variable = model.variables.get(name);
  if (!variable) throw invalid(`missing scalar ${name}`);
  if (variable.shape.length !== 0) throw invalid(`${name} is not a scalar`);
  const value = rawToFloat32(variable)[0];
  if (value === undefined || !Number.isInteger(value)) throw invalid(`${name} is not an integer scalar`);
  return value;
}

/**
 * A variable's values as float32, dequantizing integer weights with their `<name>_scale` sibling
 * (CTranslate2 stores `q = round(w · scale)`: one scale per output row for int8, one scalar for int16).
 */
export function readFloat32(model: Ct2Model, name: string): Float32Array {
  const variable = model.variables.get(model.aliases.get(name) ?? name);
  if (!variable) throw invalid(`missing variable ${name}`);
  const values = rawToFloat32(variable);
  if (variable.dtype !== Ct2DType.I8 && variable.dtype !== Ct2DType.I16) return values;
  const scaleName = `${variable.name}_scale`;
  if (!model.variables.has(scaleName)) throw invalid(`${variable.name} is quantized but ${scaleName} is missing`);
  const scales = readFloat32(model, scaleName);
  const rows = scales.length;
  if (rows === 0 || values.length % rows !== 0) {
    throw invalid(`${scaleName} has ${rows} values for ${values.length} weights`);
  }
  const rowLength = values.length / rows;
  for (let row = 0; row < rows; row++) {
    const scale = scales[row] ?? 1;
    for (let i = row * rowLength; i < (row + 1) * rowLength; i++) values[i] = (values[i] ?? 0) / scale;
  }
  return values;
}
