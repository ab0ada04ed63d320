/**
 * CTranslate2 Whisper model directory (faster-whisper format: `model.bin` + `vocabulary.{json,txt}`)
 * → whisper.cpp ggml file (`ggml-*.bin`, ftype 1: f16 weights, f32 biases / norms / positions).
 *
 * Layout facts: ../../../../../shared/design/real-models.md §A (CT2 `WhisperSpec` revision 3;
 * whisper.cpp `whisper_model_load`). CT2 keeps PyTorch's `[out, in]` layout, so tensors are copied
 * as they are, except that fused projections are split: self-attention `linear_0` = Q|K|V rows,
 * cross-attention `linear_1` = K|V rows. whisper.cpp has no key bias; CT2's is a zero slice (and a
 * key bias only adds a per-query constant to the logits, which softmax ignores).
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../../shared/errors.contract';
import { type Ct2Model, parseCt2Model, readFloat32, readScalarInt } from './ct2-model';
import { tokenToBytes } from './gpt2-bytes';
import { toHalfArray } from './half-float';
import { slaneyMelFilterBank } from '../../../shared/audio/mel-filters';
import { GGML_FILE_MAGIC, GGML_TYPE_F16, GGML_TYPE_F32, HPARAM_ORDER, type WhisperHparams } from '../../../native-workers/stt/whisper-ggml-layout';

const WHISPER_SAMPLE_RATE_HZ = 16_000;
const WHISPER_FFT_SIZE = 400;
const END_OF_TEXT = '<|endoftext|>';

export type GgmlType = 'f32' | 'f16';
/** ggml_type ids; for whisper.cpp's header `ftype`, the same numbers mean "all f32" / "mostly f16". */
const GGML_TYPE_ID: Record<GgmlType, number> = { f32: GGML_TYPE_F32, f16: GGML_TYPE_F16 };

/** One tensor of the output file; `shape` in PyTorch order (the file stores it reversed). */
export interface GgmlTensorPlan {
  name: string;
  shape: number[];
  type: GgmlType;
  values: () => Float32Array;
}

export interface ConvertResult {
  outPath: string;
  hparams: WhisperHparams;
  tensorCount: number;
  /** Tokens written to the file (the ordinary ones; whisper.cpp names the special tokens itself). */
  vocabularyTokens: number;
  byteLength: number;
}

function invalid(message: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `CTranslate2 Whisper model: ${message}`, false);
}

function shapeOf(model: Ct2Model, name: string): number[] {
  const variable = model.variables.get(name);
  if (!variable) throw invalid(`missing variable ${name}`);
  return variable.shape;
}

function countLayers(model: Ct2Model, prefix: 'encoder' | 'decoder'): number {
  let count = 0;
  while (model.variables.has(`${prefix}/layer_${count}/ffn/linear_0/weight`)) count++;
  if (count === 0) throw invalid(`no ${prefix} layers`);
  return count;
}

/** The header's hyperparameters: sizes from the variable shapes and the `num_heads` scalars, ftype from the weight type. */
export function whisperHparamsFromCt2(model: Ct2Model, weightType: GgmlType = 'f16'): WhisperHparams {
  if (model.specName !== 'WhisperSpec') throw invalid(`spec is ${model.specName}, not WhisperSpec`);
  const [nAudioState = 0, nMels = 0] = shapeOf(model, 'encoder/conv1/weight');
  const [nAudioCtx = 0] = shapeOf(model, 'encoder/position_encodings/encodings');
  const [nVocab = 0, nTextState = 0] = shapeOf(model, 'decoder/embeddings/weight');
  const [nTextCtx = 0] = shapeOf(model, 'decoder/position_encodings/encodings');
  return {
    nVocab,
    nAudioCtx,
    nAudioState,
    nAudioHead: readScalarInt(model, 'encoder/num_heads'),
    nAudioLayer: countLayers(model, 'encoder'),
    nTextCtx,
    nTextState,
    nTextHead: readScalarInt(model, 'decoder/num_heads'),
    nTextLayer: countLayers(model, 'decoder'),
    nMels,
    ftype: GGML_TYPE_ID[weightType],
  };
}

/**
 * The ggml tensors whisper.cpp expects, in its names, with their sources in the CT2 model.
 * `weightType` applies to conv and linear weights and the token embedding; the rest is always f32.
 */
export function planWhisperTensors(model: Ct2Model, hparams: WhisperHparams, weightType: GgmlType = 'f16'): GgmlTensorPlan[] {
  const plans: GgmlTensorPlan[] = [];

  const take = (source: string, expected: number[], part = 0, parts = 1): (() => Float32Array) => {
    const actual = shapeOf(model, source);
    if (actual.length !== expected.length || actual.some((dim, i) => dim !== expected[i])) {
      throw invalid(`${source} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
    }
    return () => {
      const all = readFloat32(model, source);
      const length = all.length / parts;
      return all.subarray(part * length, (part + 1) * length);
    };
  };
  const add = (name: string, shape: number[], values: () => Float32Array): void => {
    const isWeightMatrix = name.endsWith('.weight') && shape.length >= 2;
    plans.push({ name, shape, type: isWeightMatrix ? weightType : 'f32', values });
  };
  const layerNorm = (source: string, target: string, d: number): void => {
    add(`${target}.weight`, [d], take(`${source}/gamma`, [d]));
    add(`${target}.bias`, [d], take(`${source}/beta`, [d]));
  };
  const linear = (source: string, target: string, rows: number, cols: number, part = 0, parts = 1, bias = true): void => {
    add(`${target}.weight`, [rows, cols], take(`${source}/weight`, [rows * parts, cols], part, parts));
    if (bias) add(`${target}.bias`, [rows], take(`${source}/bias`, [rows * parts], part, parts));
  };
  const selfAttentionAndMlp = (source: string, target: string, d: number): void => {
    layerNorm(`${source}/self_attention/layer_norm`, `${target}.attn_ln`, d);
    linear(`${source}/self_attention/linear_0`, `${target}.attn.query`, d, d, 0, 3);
    linear(`${source}/self_attention/linear_0`, `${target}.attn.key`, d, d, 1, 3, false);
    linear(`${source}/self_attention/linear_0`, `${target}.attn.value`, d, d, 2, 3);
    linear(`${source}/self_attention/linear_1`, `${target}.attn.out`, d, d);
    layerNorm(`${source}/ffn/layer_norm`, `${target}.mlp_ln`, d);
    linear(`${source}/ffn/linear_0`, `${target}.mlp.0`, 4 * d, d);
    linear(`${source}/ffn/linear_1`, `${target}.mlp.2`, d, 4 * d);
  };

  const { nAudioState: da, nTextState: dt, nMels } = hparams;
  add('encoder.positional_embedding', [hparams.nAudioCtx, da], take('encoder/position_encodings/encodings', [hparams.nAudioCtx, da]));
  add('encoder.conv1.weight', [da, nMels, 3], take('encoder/conv1/weight', [da, nMels, 3]));
  add('encoder.conv1.bias', [da, 1], take('encoder/conv1/bias', [da]));
  add('encoder.conv2.weight', [da, da, 3], take('encoder/conv2/weight', [da, da, 3]));
  add('encoder.conv2.bias', [da, 1], take('encoder/conv2/bias', [da]));
  for (let i = 0; i < hparams.nAudioLayer; i++) selfAttentionAndMlp(`encoder/layer_${i}`, `encoder.blocks.${i}`, da);
  layerNorm('encoder/layer_norm', 'encoder.ln_post', da);

  add('decoder.positional_embedding', [hparams.nTextCtx, dt], take('decoder/position_encodings/encodings', [hparams.nTextCtx, dt]));
  add('decoder.token_embedding.weight', [hparams.nVocab, dt], take('decoder/embeddings/weight', [hparams.nVocab, dt]));
  for (let i = 0; i < hparams.nTextLayer; i++) {
    const source = `decoder/layer_${i}`;
    const target = `decoder.blocks.${i}`;
    selfAttentionAndMlp(source, target, dt);
    layerNorm(`${source}/attention/layer_norm`, `${target}.cross_attn_ln`, dt);
    linear(`${source}/attention/linear_0`, `${target}.cross_attn.query`, dt, dt);
    linear(`${source}/attention/linear_1`, `${target}.cross_attn.key`, dt, da, 0, 2, false);
    linear(`${source}/attention/linear_1`, `${target}.cross_attn.value`, dt, da, 1, 2);
    linear(`${source}/attention/linear_2`, `${target}.cross_attn.out`, dt, dt);
  }
  layerNorm('decoder/layer_norm', 'decoder.ln', dt);
  return plans;
}

/** The CT2 vocabulary (`vocabulary.json`: a JSON list; `vocabulary.txt`: one token per line). */
export function readCt2Vocabulary(modelDir: string): string[] {
  const jsonPath = join(modelDir, 'vocabulary.json');
  if (existsSync(jsonPath)) {
    const parsed: unknown = JSON.parse(readFileSync(jsonPath, 'utf8'));
    if (!Array.isArray(parsed) || !parsed.every((token) => typeof token === 'string')) {
      throw invalid('vocabulary.json is not a list of strings');
    }
    return parsed as string[];
  }
  const textPath = join(modelDir, 'vocabulary.txt');
  if (!existsSync(textPath)) throw invalid(`no vocabulary.json or vocabulary.txt in ${modelDir}`);
  const lines = readFileSync(textPath, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The ordinary (BPE) tokens: everything before `<|endoftext|>`. */
export function ordinaryTokens(vocabulary: string[]): string[] {
  const end = vocabulary.indexOf(END_OF_TEXT);
  if (end < 0) throw invalid(`vocabulary has no ${END_OF_TEXT}`);
  return vocabulary.slice(0, end);
}

/** Buffered sequential writer over a file descriptor. */
class FileWriter {
  private readonly chunk = Buffer.alloc(1 << 20);
  private used = 0;
  bytesWritten = 0;

  constructor(private readonly fd: number) {}

  write(bytes: Uint8Array): void {
    if (bytes.byteLength > this.chunk.byteLength - this.used) this.flush();
    if (bytes.byteLength >= this.chunk.byteLength) {
      writeSync(this.fd, bytes);
    } else {
      this.chunk.set(bytes, this.used);
      this.used += bytes.byteLength;
    }
    this.bytesWritten += bytes.byteLength;
  }

  int32s(...values: number[]): void {
    this.write(new Uint8Array(Int32Array.from(values).buffer));
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.chunk.subarray(0, this.used));
    this.used = 0;
  }
}

export interface ConvertOptions {
  /** Weight matrices' type (header ftype 1 or 0); f16 (default) is what upstream ggml models use. */
  weightType?: GgmlType;
}

/** Converts a CTranslate2 Whisper model directory to a whisper.cpp ggml file (written atomically). */
export function convertCt2WhisperToGgml(modelDir: string, outPath: string, options: ConvertOptions = {}): ConvertResult {
  const weightType = options.weightType ?? 'f16';
  const modelPath = join(modelDir, 'model.bin');
  if (!existsSync(modelPath)) throw new AppError(ErrorCode.ModelMissing, `no model.bin in ${modelDir}`, false);
  if (statSync(modelPath).size > 2 ** 31 - 1) {
    throw new AppError(ErrorCode.ModelTooLarge, `${modelPath} is over 2 GiB; this converter reads it whole`, false);
  }
  const model = parseCt2Model(readFileSync(modelPath));
  const hparams = whisperHparamsFromCt2(model, weightType);
  const tensors = planWhisperTensors(model, hparams, weightType);
  const tokens = ordinaryTokens(readCt2Vocabulary(modelDir));
  const mel = slaneyMelFilterBank(WHISPER_SAMPLE_RATE_HZ, WHISPER_FFT_SIZE, hparams.nMels);

  const partialPath = `${outPath}.partial`;
  const fd = openSync(partialPath, 'w');
  const writer = new FileWriter(fd);
  try {
    writer.int32s(GGML_FILE_MAGIC, ...HPARAM_ORDER.map((key) => hparams[key]));
    writer.int32s(mel.melCount, mel.binCount);
    writer.write(new Uint8Array(mel.weights.buffer));
    writer.int32s(tokens.length);
    for (const token of tokens) {
      const bytes = tokenToBytes(token);
      writer.int32s(bytes.byteLength);
      writer.write(bytes);
    }
    const encoder = new TextEncoder();
    for (const tensor of tensors) {
      const name = encoder.encode(tensor.name);
      writer.int32s(tensor.shape.length, name.byteLength, GGML_TYPE_ID[tensor.type]);
      writer.int32s(...[...tensor.shape].reverse());
      writer.write(name);
      const values = tensor.values();
      const data = tensor.type === 'f16' ? toHalfArray(values) : Float32Array.from(values);
      writer.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    writer.flush();
  } catch (error) {
    closeSync(fd);
    rmSync(partialPath, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(partialPath, outPath);
  return {
    outPath,
    hparams,
    tensorCount: tensors.length,
    vocabularyTokens: tokens.length,
    byteLength: writer.bytesWritten,
  };
}
