/**
 * Reads what a runtime needs to know about an ONNX model before loading it: its metadata
 * (ModelProto.metadata_props) and the names of its graph inputs and outputs. A small protobuf
 * reader walks the file without decoding weights, so a broken or foreign file is reported as such
 * instead of reaching native code that may abort the process.
 */

export interface OnnxModelInfo {
  metadata: Record<string, string>;
  /** Graph inputs that are not initializers, in order. */
  inputNames: string[];
  outputNames: string[];
  /** The same inputs and outputs with their declared element types and shapes. */
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
}

/** A graph input or output as the file declares it. */
export interface OnnxTensorInfo {
  name: string;
  /** TensorProto.DataType (1 = float32, 7 = int64); 0 when the value is not a tensor or undeclared. */
  elementType: number;
  /** Fixed sizes as numbers, symbolic ones (a batch axis) as their names; null when no shape is declared. */
  dims: Array<number | string> | null;
}

/** TensorProto.DataType.FLOAT */
export const ONNX_FLOAT32 = 1;

/** The file is not an ONNX model (or is truncated). */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

interface ProtoField {
  fieldNumber: number;
  wireType: number;
  /** For length-delimited fields: the bytes; otherwise empty. */
  bytes: Uint8Array;
  value: number;
}

/** Iterates the top-level fields of one protobuf message. */
function* fields(message: Uint8Array): Generator<ProtoField> {
  let offset = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 64; shift += 7) {
      if (offset >= message.length) throw new OnnxFormatError('truncated varint');
      const byte = message[offset++]!;
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return result;
    }
    throw new OnnxFormatError('varint too long');
  };
  while (offset < message.length) {
    const key = readVarint();
    const fieldNumber = Math.floor(key / 8);
    const wireType = key % 8;
    if (fieldNumber === 0) throw new OnnxFormatError('field number 0');
    switch (wireType) {
      case WIRE_VARINT:
        yield { fieldNumber, wireType, bytes: new Uint8Array(0), value: readVarint() };
        break;
      case WIRE_FIXED64:
        offset += 8;
        yield { fieldNumber, wireType, bytes: new Uint8Array(0), value: 0 };
        break;
      case WIRE_FIXED32:
        offset += 4;
        yield { fieldNumber, wireType, bytes: new Uint8Array(0), value: 0 };
        break;
      case WIRE_BYTES: {
        const length = readVarint();
        if (offset + length > message.length) throw new OnnxFormatError('length-delimited field runs past the end');
        yield { fieldNumber, wireType, bytes: message.subarray(offset, offset + length), value: length };
        offset += length;
        break;
      }
      default:
        throw new OnnxFormatError(`unsupported wire type ${wireType}`);
    }
    if (offset > message.length) throw new OnnxFormatError('field runs past the end');
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function stringOf(message: Uint8Array, fieldNumber: number): string {
  for (const field of fields(message)) {
    if (field.fieldNumber === fieldNumber && field.wireType === WIRE_BYTES) return decoder.decode(field.bytes);
  }
  return '';
}

// ValueInfoProto: name = 1, type = 2 {tensor_type = 1 {elem_type = 1, shape = 2 {dim = 1 {dim_value = 1, dim_param = 2}}}}.
function tensorInfo(valueInfo: Uint8Array): OnnxTensorInfo {
  const info: OnnxTensorInfo = { name: '', elementType: 0, dims: null };
  for (const field of fields(valueInfo)) {
    if (field.fieldNumber === 1 && field.wireType === WIRE_BYTES) info.name = decoder.decode(field.bytes);
    if (field.fieldNumber !== 2 || field.wireType !== WIRE_BYTES) continue;
    for (const typeField of fields(field.bytes)) {
      if (typeField.fieldNumber !== 1 || typeField.wireType !== WIRE_BYTES) continue;
      for (const tensorField of fields(typeField.bytes)) {
        if (tensorField.fieldNumber === 1 && tensorField.wireType === WIRE_VARINT) info.elementType = tensorField.value;
        if (tensorField.fieldNumber !== 2 || tensorField.wireType !== WIRE_BYTES) continue;
        info.dims = [];
        for (const dim of fields(tensorField.bytes)) {
          if (dim.fieldNumber !== 1 || dim.wireType !== WIRE_BYTES) continue;
          let size: number | string = '?';
          for (const part of fields(dim.bytes)) {
            if (part.fieldNumber === 1 && part.wireType === WIRE_VARINT) size = part.value;
            if (part.fieldNumber === 2 && part.wireType === WIRE_BYTES) size = decoder.decode(part.bytes);
          }
          info.dims.push(size);
        }
      }
    }
  }
  return info;
}

// ModelProto: ir_version = 1, graph = 7, metadata_props = 14 {key = 1, value = 2}.
// GraphProto: initializer = 5 {name = 8}, input = 11 (ValueInfoProto), output = 12 (ValueInfoProto).
/** Parses ONNX model bytes; throws OnnxFormatError when they are not an ONNX model. */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  const metadata: Record<string, string> = {};
  let graph: Uint8Array | null = null;
  let irVersion = 0;
  for (const field of fields(bytes)) {
    if (field.fieldNumber === 1 && field.wireType === WIRE_VARINT) irVersion = field.value;
    else if (field.fieldNumber === 7 && field.wireType === WIRE_BYTES) graph = field.bytes;
    else if (field.fieldNumber === 14 && field.wireType === WIRE_BYTES) metadata[stringOf(field.bytes, 1)] = stringOf(field.bytes, 2);
  }
  if (irVersion === 0 || !graph) throw new OnnxFormatError('no ir_version or no graph');
  const initializers = new Set<string>();
  const declaredInputs: OnnxTensorInfo[] = [];
  const outputs: OnnxTensorInfo[] = [];
  for (const field of fields(graph)) {
    if (field.wireType !== WIRE_BYTES) continue;
    if (field.fieldNumber === 5) initializers.add(stringOf(field.bytes, 8));
    else if (field.fieldNumber === 11) declaredInputs.push(tensorInfo(field.bytes));
    else if (field.fieldNumber === 12) outputs.push(tensorInfo(field.bytes));
  }
  const inputs = declaredInputs.filter((input) => !initializers.has(input.name));
  return { metadata, inputNames: inputs.map((input) => input.name), outputNames: outputs.map((output) => output.name), inputs, outputs };
}
