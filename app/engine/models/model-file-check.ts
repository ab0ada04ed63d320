import { readFile, stat } from 'node:fs/promises';
import { ModelFormat, type ModelKind } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { inspectGgufFile } from '../../native-workers/llm/gguf-file';
import { readPiperConfig } from '../../native-workers/piper/piper-voice-config';
import { checkWhisperModelFile } from '../../native-workers/stt/whisper-model-check';
import { OnnxFormatError, readOnnxModelInfo } from '../../native-workers/tts/onnx-model-info';
import { describeFormat, detectFileFormat } from './model-format';

/**
 * Checks model files the way their runtimes will load them, in plain TypeScript: the same header
 * and size checks the workers run before native code sees a file, so a model that passes here does
 * not fail its load for being truncated, foreign or a folder. Used before a file is imported or
 * saved as a setting.
 */

/** The format each kind's runtime loads (a voice is a Piper ONNX with its `.onnx.json`). */
const FORMAT_OF_KIND: Record<ModelKind, ModelFormat> = {
  llm: ModelFormat.Gguf,
  stt: ModelFormat.WhisperGgml,
  tts: ModelFormat.Onnx,
  turn: ModelFormat.Onnx,
};

/**
 * `path` must be a readable regular file: AppError model_missing when there is none,
 * model_invalid for a folder or another kind of file, in words (never a bare EISDIR).
 */
export async function requireModelFile(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AppError(ErrorCode.ModelMissing, `There is no file ${path}.`, false);
    throw new AppError(ErrorCode.ModelMissing, `${path} cannot be read (${code ?? (error as Error).message}).`, false, { cause: error });
  }
  if (info.isDirectory()) throw new AppError(ErrorCode.ModelInvalid, `${path} is a folder, not a model file.`, false);
  if (!info.isFile()) throw new AppError(ErrorCode.ModelInvalid, `${path} is not a regular file, so it cannot be a model.`, false);
  return info.size;
}

/** Walks an ONNX file's protobuf to its end: a truncated or foreign file is model_invalid. */
async function checkOnnxFile(path: string): Promise<void> {
  try {
    readOnnxModelInfo(await readFile(path));
  } catch (error) {
    if (!(error instanceof OnnxFormatError)) throw error;
    throw new AppError(ErrorCode.ModelInvalid, `${path} is not a complete ONNX model (${error.message}); it may be truncated — download it again.`, false);
  }
}

/**
 * Checks a file already known to be `format` down to its data: a GGUF's header and tensor sizes,
 * a whisper.cpp model's header, vocabulary and tensors, an ONNX model's protobuf. JSON companions
 * are not models and pass.
 */
export async function checkModelFormat(format: ModelFormat, path: string): Promise<void> {
  switch (format) {
    case ModelFormat.Gguf:
      await inspectGgufFile(path);
      return;
    case ModelFormat.WhisperGgml:
      await checkWhisperModelFile(path);
      return;
    case ModelFormat.Onnx:
      await checkOnnxFile(path);
      return;
    case ModelFormat.Json:
      return;
  }
}

const KIND_WORDS: Record<ModelKind, string> = { llm: 'a language model', stt: 'a speech-to-text model', tts: 'a voice', turn: 'an end-of-turn model' };

/**
 * Checks that `path` is a usable model of `kind`: a GGUF language model, a whisper.cpp model, or
 * a Piper voice (ONNX plus its `.onnx.json`). Throws AppError model_missing / model_invalid in words.
 */
export async function checkModelFile(kind: ModelKind, path: string): Promise<void> {
  await requireModelFile(path);
  const format = await detectFileFormat(path);
  const expected = FORMAT_OF_KIND[kind];
  if (format === null) {
    throw new AppError(ErrorCode.ModelInvalid, `${path} is not a model file; ${KIND_WORDS[kind]} must be ${describeFormat(expected)}.`, false);
  }
  if (format !== expected) {
    throw new AppError(ErrorCode.ModelInvalid, `${path} is ${describeFormat(format)}, but ${KIND_WORDS[kind]} must be ${describeFormat(expected)}.`, false);
  }
  await checkModelFormat(format, path);
  if (kind === 'tts') await readPiperConfig(`${path}.json`);
}
