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
}

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

// ModelProto: ir_version = 1, graph = 7, metadata_props = 14 {key = 1, value = 2}.
// GraphProto: initializer = 5 {name = 8}, input = 11 {name = 1}, output = 12 {name = 1}.
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
  const inputs: string[] = [];
  const outputNames: string[] = [];
  for (const field of fields(graph)) {
    if (field.wireType !== WIRE_BYTES) continue;
    if (field.fieldNumber === 5) initializers.add(stringOf(field.bytes, 8));
    else if (field.fieldNumber === 11) inputs.push(stringOf(field.bytes, 1));
    else if (field.fieldNumber === 12) outputNames.push(stringOf(field.bytes, 1));
  }
  return { metadata, inputNames: inputs.filter((name) => !initializers.has(name)), outputNames };
}
