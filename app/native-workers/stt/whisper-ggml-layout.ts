/**
 * The whisper.cpp ggml model file layout (ggml-org/whisper.cpp `whisper_model_load`): magic, 11 int32
 * hyperparameters, mel filters, vocabulary, then tensors until EOF. Shared by the file checker (which
 * must reject what whisper.cpp would misread), the fixture generator and the CTranslate2 converter
 * (which must write what it loads).
 */

/** "ggml" read as a little-endian int32. */
export const GGML_FILE_MAGIC = 0x67676d6c;

/** The header's hyperparameters, in file order. */
export interface WhisperHparams {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  /** ggml file type (1 = mostly f16); quantized files add a version × 1000. */
  ftype: number;
}

export const HPARAM_ORDER: ReadonlyArray<keyof WhisperHparams> = [
  'nVocab',
  'nAudioCtx',
  'nAudioState',
  'nAudioHead',
  'nAudioLayer',
  'nTextCtx',
  'nTextState',
  'nTextHead',
  'nTextLayer',
  'nMels',
  'ftype',
];

/** Bytes before the mel filters: magic + 11 int32. */
export const HEADER_BYTES = 4 * (1 + HPARAM_ORDER.length);

/** Frequency bins of whisper's STFT (n_fft 400 → 201); the mel filter matrix is n_mels × this. */
export const MEL_FFT_BINS = 201;

/** Whisper's fixed contexts: 30 s of audio → 1500 encoder frames; 448 decoder positions. */
export const WHISPER_AUDIO_CTX = 1500;
export const WHISPER_TEXT_CTX = 448;

/** Vocabulary sizes whisper.cpp knows: English-only, multilingual, large-v3. */
export const WHISPER_VOCAB_SIZES: readonly number[] = [51864, 51865, 51866];

/** ggml element types a whisper file may hold: elements per block and bytes per block. */
export const GGML_TYPES: Readonly<Record<number, { name: string; blockElements: number; blockBytes: number }>> = {
  0: { name: 'f32', blockElements: 1, blockBytes: 4 },
  1: { name: 'f16', blockElements: 1, blockBytes: 2 },
  2: { name: 'q4_0', blockElements: 32, blockBytes: 18 },
  3: { name: 'q4_1', blockElements: 32, blockBytes: 20 },
  6: { name: 'q5_0', blockElements: 32, blockBytes: 22 },
  7: { name: 'q5_1', blockElements: 32, blockBytes: 24 },
  8: { name: 'q8_0', blockElements: 32, blockBytes: 34 },
  10: { name: 'q2_k', blockElements: 256, blockBytes: 84 },
  11: { name: 'q3_k', blockElements: 256, blockBytes: 110 },
  12: { name: 'q4_k', blockElements: 256, blockBytes: 144 },
  13: { name: 'q5_k', blockElements: 256, blockBytes: 176 },
  14: { name: 'q6_k', blockElements: 256, blockBytes: 210 },
};

export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

/** ggml `ggml_ftype_to_ggml_type` for the file types whisper.cpp's converter and quantizer write. */
const FTYPE_TO_WEIGHT_TYPE: Readonly<Record<number, number>> = {
  0: 0, 1: 1, 2: 2, 3: 3, 7: 8, 8: 6, 9: 7, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14,
};

/** whisper.cpp's GGML_QNT_VERSION_FACTOR: quantized files store ftype + version × 1000. */
const QNT_VERSION_FACTOR = 1000;

/** The ggml type of the big matrices for a header ftype, or undefined when whisper.cpp rejects it. */
export function weightTypeForFtype(ftype: number): number | undefined {
  return FTYPE_TO_WEIGHT_TYPE[ftype % QNT_VERSION_FACTOR];
}

/** One tensor whisper.cpp expects: name, dims innermost first (as stored), element type. */
export interface TensorSpec {
  name: string;
  ne: number[];
  type: number;
}

/** Bytes a tensor's data takes in the file. */
export function tensorDataBytes(ne: readonly number[], type: number): number {
  const info = GGML_TYPES[type];
  if (!info) throw new Error(`unknown ggml type ${type}`);
  const elements = ne.reduce((product, n) => product * n, 1);
  return (elements / info.blockElements) * info.blockBytes;
}

/**
 * Every tensor whisper.cpp creates for `hparams`, in the order the upstream converter writes them.
 * Biases, layer norms and positional embeddings are f32; conv weights f16 (f32 in an f32 model);
 * matrices and the token embedding take the ftype's weight type. No key biases, no output projection.
 */
export function whisperTensorSpecs(hparams: WhisperHparams): TensorSpec[] {
  const weight = weightTypeForFtype(hparams.ftype);
  if (weight === undefined) throw new Error(`unsupported ftype ${hparams.ftype}`);
  const conv = weight === GGML_TYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
  const f32 = GGML_TYPE_F32;
  const specs: TensorSpec[] = [];
  const add = (name: string, ne: number[], type: number): void => void specs.push({ name, ne, type });

  const linear = (prefix: string, inputs: number, outputs: number, bias = true): void => {
    add(`${prefix}.weight`, [inputs, outputs], weight);
    if (bias) add(`${prefix}.bias`, [outputs], f32);
  };
  const norm = (prefix: string, n: number): void => {
    add(`${prefix}.weight`, [n], f32);
    add(`${prefix}.bias`, [n], f32);
  };
  const attention = (prefix: string, n: number): void => {
    linear(`${prefix}.query`, n, n);
    linear(`${prefix}.key`, n, n, false);
    linear(`${prefix}.value`, n, n);
    linear(`${prefix}.out`, n, n);
  };
  const block = (prefix: string, n: number, cross: boolean): void => {
    norm(`${prefix}.attn_ln`, n);
    attention(`${prefix}.attn`, n);
    if (cross) {
      norm(`${prefix}.cross_attn_ln`, n);
      attention(`${prefix}.cross_attn`, n);
    }
    norm(`${prefix}.mlp_ln`, n);
    linear(`${prefix}.mlp.0`, n, 4 * n);
    linear(`${prefix}.mlp.2`, 4 * n, n);
  };

  const audio = hparams.nAudioState;
  add('encoder.positional_embedding', [audio, hparams.nAudioCtx], f32);
  add('encoder.conv1.weight', [3, hparams.nMels, audio], conv);
  add('encoder.conv1.bias', [1, audio], f32);
  add('encoder.conv2.weight', [3, audio, audio], conv);
  add('encoder.conv2.bias', [1, audio], f32);
  for (let i = 0; i < hparams.nAudioLayer; i++) block(`encoder.blocks.${i}`, audio, false);
  norm('encoder.ln_post', audio);

  const text = hparams.nTextState;
  add('decoder.positional_embedding', [text, hparams.nTextCtx], f32);
  add('decoder.token_embedding.weight', [text, hparams.nVocab], weight);
  for (let i = 0; i < hparams.nTextLayer; i++) block(`decoder.blocks.${i}`, text, true);
  norm('decoder.ln', text);
  return specs;
}
