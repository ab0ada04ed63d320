import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ct2DType, parseCt2Model, readFloat32, readScalarInt } from '../../app/engine/models/ct2-whisper/ct2-model';
import { convertCt2WhisperToGgml } from '../../app/engine/models/ct2-whisper/convert-ct2-whisper';
import { fromHalfArray, toHalfArray } from '../../app/engine/models/ct2-whisper/half-float';
import { slaneyMelFilterBank } from '../../app/shared/audio/mel-filters';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';

// --- A writer for synthetic CTranslate2 model.bin files (the format the converter reads). ---

interface Var {
  name: string;
  shape: number[];
  dtype: Ct2DType;
  data: Uint8Array;
}

function ct2File(variables: Var[], aliases: Array<[string, string]> = [], version = 6): Uint8Array {
  const parts: Uint8Array[] = [];
  const u8 = (v: number): void => void parts.push(Uint8Array.of(v));
  const u16 = (v: number): void => void parts.push(new Uint8Array(Uint16Array.of(v).buffer));
  const u32 = (v: number): void => void parts.push(new Uint8Array(Uint32Array.of(v).buffer));
  const str = (s: string): void => {
    const bytes = new TextEncoder().encode(s);
    u16(bytes.length + 1);
    parts.push(bytes, Uint8Array.of(0));
  };
  u32(version);
  str('WhisperSpec');
  u32(3);
  u32(variables.length);
  for (const v of [...variables].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    str(v.name);
    u8(v.shape.length);
    v.shape.forEach(u32);
    u8(v.dtype);
    u32(v.data.byteLength);
    parts.push(v.data);
  }
  u32(aliases.length);
  for (const [alias, target] of aliases) {
    str(alias);
    str(target);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

const bytesOf = (array: Float32Array | Uint16Array | Int8Array | Int16Array): Uint8Array =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

let seed = 0;
/** Deterministic pseudo-random values in [-1, 1). */
function values(count: number): Float32Array {
  seed++;
  return Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) % 1);
}

const D = 8;
const N_MELS = 4;
const AUDIO_CTX = 6;
const TEXT_CTX = 5;
const VOCAB = ['!', 'hi', 'Ġhi', 'Ã©', 'ĊĠ', '<|endoftext|>', '<|startoftranscript|>', '<|notimestamps|>'];

/** Source values by CT2 name (f32 as written, or dequantized for int8). */
const source = new Map<string, Float32Array>();

function f32(name: string, shape: number[]): Var {
  const v = values(shape.reduce((a, b) => a * b, 1));
  source.set(name, v);
  return { name, shape, dtype: Ct2DType.F32, data: bytesOf(v) };
}

function f16(name: string, shape: number[]): Var {
  const halves = toHalfArray(values(shape.reduce((a, b) => a * b, 1)));
  source.set(name, fromHalfArray(halves));
  return { name, shape, dtype: Ct2DType.F16, data: bytesOf(halves) };
}

/** int8 with one scale per row, as CTranslate2 quantizes: q = round(w · 127 / max|w_row|). */
function int8(name: string, shape: [number, number]): Var[] {
  const [rows, cols] = shape;
  const w = values(rows * cols);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  const dequantized = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = w.subarray(r * cols, (r + 1) * cols);
    scales[r] = 127 / Math.max(...row.map(Math.abs));
    for (let c = 0; c < cols; c++) {
      q[r * cols + c] = Math.round((row[c] ?? 0) * (scales[r] ?? 1));
      dequantized[r * cols + c] = (q[r * cols + c] ?? 0) / (scales[r] ?? 1);
    }
  }
  source.set(name, dequantized);
  return [
    { name, shape, dtype: Ct2DType.I8, data: bytesOf(q) },
    { name: `${name}_scale`, shape: [rows], dtype: Ct2DType.F32, data: bytesOf(scales) },
  ];
}

const scalar16 = (name: string, v: number): Var => ({ name, shape: [], dtype: Ct2DType.I16, data: bytesOf(Int16Array.of(v)) });
const scalar8 = (name: string, v: number): Var => ({ name, shape: [], dtype: Ct2DType.I8, data: bytesOf(Int8Array.of(v)) });

function layerNorm(prefix: string): Var[] {
  return [f32(`${prefix}/gamma`, [D]), f32(`${prefix}/beta`, [D])];
}

function linear(prefix: string, rows: number, cols: number, kind: 'f32' | 'f16' | 'int8' = 'f32'): Var[] {
  const weight = kind === 'int8' ? int8(`${prefix}/weight`, [rows, cols]) : [(kind === 'f16' ? f16 : f32)(`${prefix}/weight`, [rows, cols])];
  return [...weight, f32(`${prefix}/bias`, [rows])];
}

function tinyWhisper(): Var[] {
  const vars: Var[] = [
    f16('encoder/conv1/weight', [D, N_MELS, 3]),
    f32('encoder/conv1/bias', [D]),
    f32('encoder/conv2/weight', [D, D, 3]),
    f16('encoder/conv2/bias', [D]),
    f32('encoder/position_encodings/encodings', [AUDIO_CTX, D]),
    scalar16('encoder/num_heads', 2),
    ...layerNorm('encoder/layer_0/self_attention/layer_norm'),
    ...linear('encoder/layer_0/self_attention/linear_0', 3 * D, D),
    ...linear('encoder/layer_0/self_attention/linear_1', D, D, 'f16'),
    ...layerNorm('encoder/layer_0/ffn/layer_norm'),
    ...linear('encoder/layer_0/ffn/linear_0', 4 * D, D, 'int8'),
    ...linear('encoder/layer_0/ffn/linear_1', D, 4 * D),
    ...layerNorm('encoder/layer_norm'),
    f32('decoder/embeddings/weight', [VOCAB.length, D]),
    f32('decoder/position_encodings/encodings', [TEXT_CTX, D]),
    scalar16('decoder/num_heads', 2),
    scalar16('decoder/alignment_heads', 1),
    scalar8('decoder/pre_norm', 1),
    ...layerNorm('decoder/layer_0/self_attention/layer_norm'),
    ...linear('decoder/layer_0/self_attention/linear_0', 3 * D, D),
    ...linear('decoder/layer_0/self_attention/linear_1', D, D),
    ...layerNorm('decoder/layer_0/attention/layer_norm'),
    ...linear('decoder/layer_0/attention/linear_0', D, D),
    ...linear('decoder/layer_0/attention/linear_1', 2 * D, D, 'int8'),
    ...linear('decoder/layer_0/attention/linear_2', D, D),
    ...layerNorm('decoder/layer_0/ffn/layer_norm'),
    ...linear('decoder/layer_0/ffn/linear_0', 4 * D, D),
    ...linear('decoder/layer_0/ffn/linear_1', D, 4 * D),
    ...layerNorm('decoder/layer_norm'),
  ];
  return vars;
}

/** Built once: `source` holds the values these variables carry. */
const TINY = tinyWhisper();

// --- A reader for the ggml output. ---

interface GgmlTensor {
  ne: number[];
  type: number;
  values: Float32Array;
}

function readGgml(bytes: Buffer): { header: number[]; mel: { n: number; bins: number; data: Float32Array }; vocab: Buffer[]; tensors: Map<string, GgmlTensor> } {
  let offset = 0;
  const i32 = (): number => {
    const v = bytes.readInt32LE(offset);
    offset += 4;
    return v;
  };
  const floats = (count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(offset + 4 * i);
    offset += 4 * count;
    return out;
  };
  const header = Array.from({ length: 12 }, i32);
  const n = i32();
  const bins = i32();
  const mel = { n, bins, data: floats(n * bins) };
  const vocab = Array.from({ length: i32() }, () => {
    const length = i32();
    offset += length;
    return bytes.subarray(offset - length, offset);
  });
  const tensors = new Map<string, GgmlTensor>();
  while (offset < bytes.length) {
    const nDims = i32();
    const nameLength = i32();
    const type = i32();
    const ne = Array.from({ length: nDims }, i32);
    const name = bytes.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    const count = ne.reduce((a, b) => a * b, 1);
    let tensorValues: Float32Array;
    if (type === 1) {
      const halves = new Uint16Array(count);
      for (let i = 0; i < count; i++) halves[i] = bytes.readUInt16LE(offset + 2 * i);
      offset += 2 * count;
      tensorValues = fromHalfArray(halves);
    } else {
      tensorValues = floats(count);
    }
    expect(tensors.has(name)).toBe(false);
    tensors.set(name, { ne, type, values: tensorValues });
  }
  expect(offset).toBe(bytes.length);
  return { header, mel, vocab, tensors };
}

const roundedToHalf = (v: Float32Array): number[] => Array.from(fromHalfArray(toHalfArray(v)));
const rows = (v: Float32Array | undefined, from: number, to: number, cols: number): Float32Array => {
  if (!v) throw new Error('missing source');
  return v.subarray(from * cols, to * cols);
};

const workDir = mkdtempSync(join(tmpdir(), 'ct2-convert-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function writeModelDir(name: string, file: Uint8Array, vocabulary: 'txt' | 'json' = 'txt'): string {
  const modelDir = join(workDir, name);
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'model.bin'), file);
  if (vocabulary === 'txt') writeFileSync(join(modelDir, 'vocabulary.txt'), `${VOCAB.join('\n')}\n`);
  else writeFileSync(join(modelDir, 'vocabulary.json'), JSON.stringify(VOCAB));
  return modelDir;
}

function expectModelInvalid(run: () => unknown, fragment: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.ModelInvalid);
    expect((error as AppError).message).toMatch(fragment);
    return;
  }
  throw new Error('expected a model_invalid error');
}

describe('CTranslate2 model.bin reader', () => {
  const file = ct2File(TINY, [['decoder/projection/weight', 'decoder/embeddings/weight']]);

  it('reads the header, sorted variables, scalars and aliases', () => {
    const model = parseCt2Model(file);
    expect(model.binaryVersion).toBe(6);
    expect(model.specName).toBe('WhisperSpec');
    expect(model.specRevision).toBe(3);
    expect(model.variables.get('encoder/conv1/weight')?.shape).toEqual([D, N_MELS, 3]);
    expect(model.variables.get('encoder/conv1/weight')?.dtype).toBe(Ct2DType.F16);
    expect(readScalarInt(model, 'encoder/num_heads')).toBe(2);
    expect(readScalarInt(model, 'decoder/pre_norm')).toBe(1);
    expect(model.aliases.get('decoder/projection/weight')).toBe('decoder/embeddings/weight');
    expect(Array.from(readFloat32(model, 'decoder/projection/weight'))).toEqual(Array.from(source.get('decoder/embeddings/weight') ?? []));
  });

  it('decodes f32, f16 and int8 (with per-row weight_scale) to float32', () => {
    const model = parseCt2Model(file);
    for (const name of ['encoder/conv1/bias', 'encoder/conv1/weight', 'encoder/layer_0/ffn/linear_0/weight']) {
      const expected = Array.from(source.get(name) ?? []);
      expect(expected.length).toBeGreaterThan(0);
      expect(Array.from(readFloat32(model, name))).toEqual(expected);
    }
  });

  it('rejects truncated files, unknown versions and bad sizes with model_invalid', () => {
    expectModelInvalid(() => parseCt2Model(file.subarray(0, file.length - 3)), /truncated/);
    expectModelInvalid(() => parseCt2Model(ct2File([], [], 3)), /unsupported binary version 3/);
    const badSize: Var = { name: 'x', shape: [3], dtype: Ct2DType.F32, data: new Uint8Array(8) };
    expectModelInvalid(() => parseCt2Model(ct2File([badSize])), /8 bytes do not match shape \[3\]/);
    expectModelInvalid(() => parseCt2Model(Uint8Array.from([...file, 0])), /trailing/);
  });
});

describe('CTranslate2 Whisper → whisper.cpp ggml', () => {
  const file = ct2File(TINY, [['decoder/projection/weight', 'decoder/embeddings/weight']]);
  const modelDir = writeModelDir('tiny', file);
  const result = convertCt2WhisperToGgml(modelDir, join(workDir, 'ggml-tiny.bin'));
  const ggml = readGgml(readFileSync(result.outPath));

  it('writes the magic, hyperparameters from shapes and num_heads, and ftype 1', () => {
    expect(ggml.header).toEqual([0x67676d6c, VOCAB.length, AUDIO_CTX, D, 2, 1, TEXT_CTX, D, 2, 1, N_MELS, 1]);
    expect(result.hparams).toEqual({
      nVocab: 8,
      nAudioCtx: AUDIO_CTX,
      nAudioState: D,
      nAudioHead: 2,
      nAudioLayer: 1,
      nTextCtx: TEXT_CTX,
      nTextState: D,
      nTextHead: 2,
      nTextLayer: 1,
      nMels: N_MELS,
      ftype: 1,
    });
    expect(result.byteLength).toBe(readFileSync(result.outPath).length);
  });

  it('writes the Slaney mel filters for n_mels × 201 bins', () => {
    expect(ggml.mel.n).toBe(N_MELS);
    expect(ggml.mel.bins).toBe(201);
    expect(Array.from(ggml.mel.data)).toEqual(Array.from(slaneyMelFilterBank(16_000, 400, N_MELS).weights));
  });

  it('writes the ordinary tokens as raw bytes (whisper.cpp adds the special ones)', () => {
    expect(result.vocabularyTokens).toBe(5);
    expect(ggml.vocab.map((b) => Array.from(b))).toEqual([[0x21], [0x68, 0x69], [0x20, 0x68, 0x69], [0xc3, 0xa9], [0x0a, 0x20]]);
  });

  it('writes exactly the tensors whisper.cpp loads, under its names', () => {
    const block = (prefix: string, cross: boolean): string[] => [
      ...['attn_ln.weight', 'attn_ln.bias', 'attn.query.weight', 'attn.query.bias', 'attn.key.weight', 'attn.value.weight', 'attn.value.bias', 'attn.out.weight', 'attn.out.bias'],
      ...['mlp_ln.weight', 'mlp_ln.bias', 'mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias'],
      ...(cross
        ? ['cross_attn_ln.weight', 'cross_attn_ln.bias', 'cross_attn.query.weight', 'cross_attn.query.bias', 'cross_attn.key.weight', 'cross_attn.value.weight', 'cross_attn.value.bias', 'cross_attn.out.weight', 'cross_attn.out.bias']
        : []),
    ].map((n) => `${prefix}.${n}`);
    const expected = [
      'encoder.positional_embedding',
      'encoder.conv1.weight',
      'encoder.conv1.bias',
      'encoder.conv2.weight',
      'encoder.conv2.bias',
      'encoder.ln_post.weight',
      'encoder.ln_post.bias',
      ...block('encoder.blocks.0', false),
      'decoder.positional_embedding',
      'decoder.token_embedding.weight',
      'decoder.ln.weight',
      'decoder.ln.bias',
      ...block('decoder.blocks.0', true),
    ];
    expect([...ggml.tensors.keys()].sort()).toEqual(expected.sort());
    expect(result.tensorCount).toBe(expected.length);
  });

  it('reverses dims, shapes conv biases [n, 1] and picks f16 for weight matrices only', () => {
    const t = (name: string): GgmlTensor => {
      const tensor = ggml.tensors.get(name);
      if (!tensor) throw new Error(`no ${name}`);
      return tensor;
    };
    expect(t('encoder.conv1.weight')).toMatchObject({ ne: [3, N_MELS, D], type: 1 });
    expect(t('encoder.conv1.bias')).toMatchObject({ ne: [1, D], type: 0 });
    expect(t('encoder.conv2.bias')).toMatchObject({ ne: [1, D], type: 0 });
    expect(t('encoder.positional_embedding')).toMatchObject({ ne: [D, AUDIO_CTX], type: 0 });
    expect(t('decoder.positional_embedding')).toMatchObject({ ne: [D, TEXT_CTX], type: 0 });
    expect(t('decoder.token_embedding.weight')).toMatchObject({ ne: [D, VOCAB.length], type: 1 });
    expect(t('encoder.blocks.0.mlp.0.weight')).toMatchObject({ ne: [D, 4 * D], type: 1 });
    expect(t('encoder.blocks.0.mlp.2.weight')).toMatchObject({ ne: [4 * D, D], type: 1 });
    expect(t('decoder.ln.weight')).toMatchObject({ ne: [D], type: 0 });
    expect(Array.from(t('encoder.conv2.bias').values)).toEqual(Array.from(source.get('encoder/conv2/bias') ?? []));
    expect(Array.from(t('encoder.ln_post.weight').values)).toEqual(Array.from(source.get('encoder/layer_norm/gamma') ?? []));
    expect(Array.from(t('decoder.token_embedding.weight').values)).toEqual(roundedToHalf(source.get('decoder/embeddings/weight') ?? new Float32Array()));
  });

  it('splits fused Q|K|V and K|V rows, dropping the key biases', () => {
    const t = (name: string): number[] => Array.from(ggml.tensors.get(name)?.values ?? []);
    const qkv = source.get('decoder/layer_0/self_attention/linear_0/weight');
    const qkvBias = source.get('decoder/layer_0/self_attention/linear_0/bias');
    expect(t('decoder.blocks.0.attn.query.weight')).toEqual(roundedToHalf(rows(qkv, 0, D, D)));
    expect(t('decoder.blocks.0.attn.key.weight')).toEqual(roundedToHalf(rows(qkv, D, 2 * D, D)));
    expect(t('decoder.blocks.0.attn.value.weight')).toEqual(roundedToHalf(rows(qkv, 2 * D, 3 * D, D)));
    expect(t('decoder.blocks.0.attn.query.bias')).toEqual(Array.from(rows(qkvBias, 0, D, 1)));
    expect(t('decoder.blocks.0.attn.value.bias')).toEqual(Array.from(rows(qkvBias, 2 * D, 3 * D, 1)));
    const kv = source.get('decoder/layer_0/attention/linear_1/weight');
    expect(t('decoder.blocks.0.cross_attn.key.weight')).toEqual(roundedToHalf(rows(kv, 0, D, D)));
    expect(t('decoder.blocks.0.cross_attn.value.weight')).toEqual(roundedToHalf(rows(kv, D, 2 * D, D)));
    expect(t('decoder.blocks.0.cross_attn.value.bias')).toEqual(Array.from(rows(source.get('decoder/layer_0/attention/linear_1/bias'), D, 2 * D, 1)));
    expect(t('decoder.blocks.0.cross_attn.query.weight')).toEqual(roundedToHalf(source.get('decoder/layer_0/attention/linear_0/weight') ?? new Float32Array()));
    expect(t('encoder.blocks.0.mlp.0.weight')).toEqual(roundedToHalf(source.get('encoder/layer_0/ffn/linear_0/weight') ?? new Float32Array()));
    expect([...ggml.tensors.keys()].filter((name) => name.includes('key.bias') || name.includes('projection'))).toEqual([]);
  });

  it('is deterministic, reads vocabulary.json too, and can write all-f32 weights (ftype 0)', () => {
    const again = convertCt2WhisperToGgml(writeModelDir('tiny-json', file, 'json'), join(workDir, 'again.bin'));
    expect(readFileSync(again.outPath).equals(readFileSync(result.outPath))).toBe(true);
    const allF32 = convertCt2WhisperToGgml(modelDir, join(workDir, 'f32.bin'), { weightType: 'f32' });
    const parsed = readGgml(readFileSync(allF32.outPath));
    expect(parsed.header[11]).toBe(0);
    expect([...parsed.tensors.values()].every((tensor) => tensor.type === 0)).toBe(true);
    expect(Array.from(parsed.tensors.get('encoder.conv2.weight')?.values ?? [])).toEqual(Array.from(source.get('encoder/conv2/weight') ?? []));
  });

  it('names what is wrong with an unusable model and leaves no partial file', () => {
    const withoutHeads = TINY.filter((v) => v.name !== 'decoder/num_heads');
    const out = join(workDir, 'broken.bin');
    expectModelInvalid(() => convertCt2WhisperToGgml(writeModelDir('no-heads', ct2File(withoutHeads)), out), /missing scalar decoder\/num_heads/);
    const wrongShape = TINY.map((v) => (v.name === 'decoder/layer_0/attention/linear_1/bias' ? { ...v, shape: [4 * D], data: new Uint8Array(16 * D) } : v));
    expectModelInvalid(() => convertCt2WhisperToGgml(writeModelDir('bad-shape', ct2File(wrongShape)), out), /linear_1\/bias has shape \[32\], expected \[16\]/);
    const dir = writeModelDir('no-eot', file);
    writeFileSync(join(dir, 'vocabulary.txt'), 'a\nb\n');
    expectModelInvalid(() => convertCt2WhisperToGgml(dir, out), /no <\|endoftext\|>/);
    expect(() => readFileSync(out)).toThrow();
    expect(() => readFileSync(`${out}.partial`)).toThrow();
  });
});
