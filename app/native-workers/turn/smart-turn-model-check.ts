import { readFile, stat } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { ONNX_FLOAT32, OnnxFormatError, readOnnxModelInfo, type OnnxTensorInfo } from '../tts/onnx-model-info';

/**
 * Checks a Smart Turn v3 model file in plain TypeScript before onnxruntime sees it: a plausible
 * size, the ONNX protobuf layout read to its end (a truncated file breaks it), and the graph
 * interface Smart Turn v3 has — one float32 input `input_features` [batch, 80 mels, 800 frames] and
 * one float32 output [batch, 1], the probability that the turn is complete.
 */

export const SMART_TURN_INPUT = 'input_features';
export const SMART_TURN_MEL_COUNT = 80;
export const SMART_TURN_FRAME_COUNT = 800;

/** The CPU build is 8.7 MB and the float32 GPU build about 32 MB; far outside that is not this model. */
const MIN_MODEL_BYTES = 1_000_000;
const MAX_MODEL_BYTES = 200_000_000;
/** ModelProto field 1 (ir_version) as a varint: what every ONNX exporter writes first. */
const ONNX_FIRST_BYTE = 0x08;

const EXPECTED = `a Smart Turn v3 ONNX model (input "${SMART_TURN_INPUT}" float32 [batch, ${SMART_TURN_MEL_COUNT}, ${SMART_TURN_FRAME_COUNT}], one float32 output [batch, 1])`;

export interface SmartTurnModelFile {
  path: string;
  /** The file's bytes, checked; the session is created from these, not from a second read. */
  bytes: Uint8Array;
  outputName: string;
}

function invalid(path: string, why: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `The Smart Turn model ${path} ${why}; expected ${EXPECTED}.`, false);
}

/** TensorProto.DataType names, for messages. */
const ELEMENT_TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

function describe(tensor: OnnxTensorInfo): string {
  const type = ELEMENT_TYPE_NAMES[tensor.elementType] ?? `element type ${tensor.elementType}`;
  return `"${tensor.name}" ${type} [${tensor.dims?.join(', ') ?? 'no shape'}]`;
}

/** A fixed size where the model needs one; a symbolic (batch) axis also fits. */
function dimsFit(dims: Array<number | string> | null, expected: Array<number | null>): boolean {
  return dims !== null && dims.length === expected.length && dims.every((dim, axis) => expected[axis] === null || dim === expected[axis]);
}

/** Reads and checks `path`; throws AppError model_missing (no file) or model_invalid (in words). */
export async function checkSmartTurnModelFile(path: string): Promise<SmartTurnModelFile> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw invalid(path, 'is not a file');
    if (info.size < MIN_MODEL_BYTES || info.size > MAX_MODEL_BYTES) {
      throw invalid(path, `has ${info.size} bytes, not the ${MIN_MODEL_BYTES / 1e6}–${MAX_MODEL_BYTES / 1e6} MB of a Smart Turn model (a truncated or wrong file)`);
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(ErrorCode.ModelMissing, `The Smart Turn model file ${path} is missing or cannot be read.`, false, { cause: error });
  }
  if (bytes[0] !== ONNX_FIRST_BYTE) throw invalid(path, 'does not start like an ONNX model');
  let info;
  try {
    info = readOnnxModelInfo(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) throw invalid(path, `is not a complete ONNX model (${error.message})`);
    throw error;
  }
  const [input] = info.inputs;
  const [output] = info.outputs;
  if (info.inputs.length !== 1 || !input || input.name !== SMART_TURN_INPUT || input.elementType !== ONNX_FLOAT32 || !dimsFit(input.dims, [null, SMART_TURN_MEL_COUNT, SMART_TURN_FRAME_COUNT])) {
    throw invalid(path, `has inputs ${info.inputs.map(describe).join(', ') || '(none)'}`);
  }
  if (info.outputs.length !== 1 || !output || output.elementType !== ONNX_FLOAT32 || !dimsFit(output.dims, [null, 1])) {
    throw invalid(path, `has outputs ${info.outputs.map(describe).join(', ') || '(none)'}`);
  }
  return { path, bytes, outputName: output.name };
}
