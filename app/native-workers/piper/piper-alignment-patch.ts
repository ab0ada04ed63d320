import protobuf from 'protobufjs';

/**
 * Exposes a Piper (VITS) voice's own phoneme durations. Inside the graph the duration predictor's
 * output becomes `w_ceil = ceil(exp(logw) · mask · length_scale)`: frames per phoneme id, each
 * frame `hop_length` samples of audio. The graph computes it in its single `Ceil` node and then
 * discards it; the patch lists that node's output as a second graph output (f32 [1, 1, N]), so one
 * ONNX call returns the audio and the durations that produced it (they are random per call when
 * noise_w > 0, so they must come from the same call). The idea is upstream Piper's alignment patch
 * (OHF-Voice/piper1-gpl `patch_voice_with_alignment.py`); this is an independent implementation.
 *
 * The model is never re-encoded as a whole. Its protobuf fields are read one by one with
 * protobufjs's Reader; only the graph's nodes (to find `Ceil`) and outputs (to list them) are
 * decoded with the ONNX schema subset below. Every other byte — the weights (≈ 60 MB of
 * initializers), metadata, opset imports, fields this subset does not know — is copied exactly as
 * read, and the new ValueInfoProto is appended to the graph message as one more `output` field
 * (a repeated field's elements keep their wire order, so it becomes the last output).
 */

/** A subset of onnx/onnx.proto (proto2), field numbers as upstream. */
const ONNX_SUBSET_PROTO = `
syntax = "proto2";
package onnx;

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
`;

const schema = protobuf.parse(ONNX_SUBSET_PROTO, { keepCase: true }).root;
const NodeProto = schema.lookupType('onnx.NodeProto');
const ValueInfoProto = schema.lookupType('onnx.ValueInfoProto');

// ModelProto.graph = 7; GraphProto.node = 1, input = 11, output = 12; ModelProto.ir_version = 1.
const MODEL_IR_VERSION = 1;
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const CEIL = Buffer.from('Ceil');
/** TensorProto.DataType.FLOAT */
const ELEM_FLOAT = 1;

/** The bytes are not a Piper voice graph the patch understands (or not ONNX at all). */
export class OnnxPatchError extends Error {
  override readonly name = 'OnnxPatchError';
}

interface RawField {
  fieldNumber: number;
  wireType: number;
  /** The whole field: key, (length) and payload, exactly as in the file. */
  start: number;
  end: number;
  /** Length-delimited payload range (wire type 2 only). */
  payloadStart: number;
  /** First varint value (wire type 0 only; ir_version). */
  varint: number;
}

/** The top-level fields of one protobuf message, as byte ranges of `message`. */
function rawFields(message: Uint8Array): RawField[] {
  const reader = protobuf.Reader.create(message);
  const fields: RawField[] = [];
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const key = reader.uint32();
      const fieldNumber = key >>> 3;
      const wireType = key & 7;
      if (fieldNumber === 0) throw new OnnxPatchError(`field number 0 at byte ${start}`);
      let payloadStart = reader.pos;
      let varint = 0;
      if (wireType === WIRE_BYTES) {
        const length = reader.uint32();
        payloadStart = reader.pos;
        reader.skip(length);
      } else if (wireType === WIRE_VARINT) {
        varint = protobuf.util.LongBits.from(reader.int64()).toNumber();
      } else {
        reader.skipType(wireType);
      }
      fields.push({ fieldNumber, wireType, start, end: reader.pos, payloadStart, varint });
    }
  } catch (error) {
    if (error instanceof OnnxPatchError) throw error;
    throw new OnnxPatchError(`not a protobuf message (${error instanceof Error ? error.message : String(error)})`);
  }
  return fields;
}

function payload(message: Uint8Array, field: RawField): Uint8Array {
  return message.subarray(field.payloadStart, field.end);
}

/** What the patch needs to know about a voice graph. */
export interface PiperGraphInfo {
  inputNames: string[];
  outputNames: string[];
  /** Outputs of the graph's `Ceil` nodes (a Piper voice has exactly one: w_ceil). */
  ceilOutputs: string[];
}

interface ModelLayout {
  fields: RawField[];
  graphField: RawField;
  graph: Uint8Array;
}

function modelLayout(model: Uint8Array): ModelLayout {
  const fields = rawFields(model);
  const irVersion = fields.find((field) => field.fieldNumber === MODEL_IR_VERSION && field.wireType === WIRE_VARINT);
  const graphFields = fields.filter((field) => field.fieldNumber === MODEL_GRAPH && field.wireType === WIRE_BYTES);
  if (!irVersion || graphFields.length === 0) throw new OnnxPatchError('no ir_version or no graph: not an ONNX model');
  if (graphFields.length > 1) throw new OnnxPatchError('the model has its graph split over several fields');
  const graphField = graphFields[0]!;
  return { fields, graphField, graph: payload(model, graphField) };
}

function decodeName(message: Uint8Array): string {
  return (ValueInfoProto.toObject(ValueInfoProto.decode(message)) as { name?: string }).name ?? '';
}

/** Reads the graph's inputs, outputs and Ceil nodes without touching its weights. */
export function inspectPiperGraph(model: Uint8Array): PiperGraphInfo {
  const { graph } = modelLayout(model);
  const info: PiperGraphInfo = { inputNames: [], outputNames: [], ceilOutputs: [] };
  for (const field of rawFields(graph)) {
    if (field.wireType !== WIRE_BYTES) continue;
    const bytes = payload(graph, field);
    if (field.fieldNumber === GRAPH_NODE) {
      // Decoding thousands of nodes is the slow part; only nodes whose bytes hold "Ceil" can be one.
      if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(CEIL) < 0) continue;
      const node = NodeProto.toObject(NodeProto.decode(bytes)) as { op_type?: string; domain?: string; output?: string[] };
      if (node.op_type === 'Ceil' && (node.domain ?? '') === '') info.ceilOutputs.push(...(node.output ?? []));
    } else if (field.fieldNumber === GRAPH_INPUT) {
      info.inputNames.push(decodeName(bytes));
    } else if (field.fieldNumber === GRAPH_OUTPUT) {
      info.outputNames.push(decodeName(bytes));
    }
  }
  return info;
}

/**
 * The tensor that holds the per-id frame counts: the single Ceil node's output. Throws when the
 * graph has no Ceil node or several (not a Piper/VITS voice this patch understands).
 */
export function durationsTensorName(info: PiperGraphInfo): string {
  const names = [...new Set(info.ceilOutputs)];
  if (names.length === 0) throw new OnnxPatchError('the graph has no Ceil node (w_ceil), so it is not a Piper/VITS voice');
  if (names.length > 1) throw new OnnxPatchError(`the graph has several Ceil outputs (${names.join(', ')}); expected one (w_ceil)`);
  return names[0]!;
}

/** True when the graph already lists its durations tensor as an output. */
export function hasDurationsOutput(info: PiperGraphInfo): boolean {
  const ceil = new Set(info.ceilOutputs);
  return info.outputNames.some((name) => ceil.has(name));
}

/** ValueInfoProto of the durations output: float [batch_size, 1, phonemes]. */
function durationsValueInfo(name: string): Uint8Array {
  const message = ValueInfoProto.fromObject({
    name,
    type: {
      tensor_type: {
        elem_type: ELEM_FLOAT,
        shape: { dim: [{ dim_param: 'batch_size' }, { dim_value: 1 }, { dim_param: 'phonemes' }] },
      },
    },
    doc_string: 'Frames (hop_length samples each) per phoneme id: ceil(exp(logw) * mask * length_scale).',
  });
  return ValueInfoProto.encode(message).finish();
}

export interface AlignmentPatch {
  /** The patched model: the input bytes with one more graph output. */
  bytes: Uint8Array;
  /** Name of the added output (the Ceil node's output tensor). */
  durationsOutput: string;
}

/**
 * Adds the Ceil node's output to the graph outputs. All other bytes are copied as they are; the
 * ModelProto's graph field grows by one `output` entry (and its length prefix changes).
 * Throws OnnxPatchError for a non-ONNX file, a graph without exactly one Ceil node, or a graph
 * that already has the output.
 */
export function addDurationsOutput(model: Uint8Array): AlignmentPatch {
  const layout = modelLayout(model);
  const info = inspectPiperGraph(model);
  const durationsOutput = durationsTensorName(info);
  if (info.outputNames.includes(durationsOutput)) throw new OnnxPatchError(`the graph already outputs ${durationsOutput}`);

  const newOutput = protobuf.Writer.create().uint32((GRAPH_OUTPUT << 3) | WIRE_BYTES).bytes(durationsValueInfo(durationsOutput)).finish();
  const graph = new Uint8Array(layout.graph.length + newOutput.length);
  graph.set(layout.graph, 0);
  graph.set(newOutput, layout.graph.length);
  const graphKeyAndLength = protobuf.Writer.create().uint32((MODEL_GRAPH << 3) | WIRE_BYTES).uint32(graph.length).finish();

  const before = model.subarray(0, layout.graphField.start);
  const after = model.subarray(layout.graphField.end);
  const bytes = new Uint8Array(before.length + graphKeyAndLength.length + graph.length + after.length);
  let offset = 0;
  for (const part of [before, graphKeyAndLength, graph, after]) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, durationsOutput };
}
