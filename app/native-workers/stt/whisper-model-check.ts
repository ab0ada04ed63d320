import { open, stat, type FileHandle } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import {
  GGML_FILE_MAGIC,
  GGML_TYPES,
  HEADER_BYTES,
  HPARAM_ORDER,
  MEL_FFT_BINS,
  WHISPER_AUDIO_CTX,
  WHISPER_TEXT_CTX,
  WHISPER_VOCAB_SIZES,
  tensorDataBytes,
  weightTypeForFtype,
  whisperTensorSpecs,
  type TensorSpec,
  type WhisperHparams,
} from './whisper-ggml-layout';

/**
 * Walks a whisper.cpp ggml model file before native code sees it. whisper.cpp trusts the file: a
 * truncated or foreign file makes it read garbage lengths (huge allocations, aborts), and a missing
 * vocabulary entry throws inside a transcription. Everything whisper.cpp would misread is rejected
 * here with an AppError that names the file and what was expected.
 */

/** What a valid model file holds. */
export interface WhisperModelSummary {
  path: string;
  fileBytes: number;
  hparams: WhisperHparams;
  weightType: string;
  tensorCount: number;
  multilingual: boolean;
}

const EXPECTED = 'a whisper.cpp ggml model (ggml-*.bin)';
/** GPT-2 token strings are short; a longer length means the vocabulary is misread. */
const MAX_TOKEN_BYTES = 1024;
const MAX_TENSOR_NAME_BYTES = 256;

class ModelFileProblem extends Error {}

/** Checks `path` and returns its summary; throws AppError model_missing / model_invalid. */
export async function checkWhisperModelFile(path: string): Promise<WhisperModelSummary> {
  let fileBytes: number;
  let handle: FileHandle;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new AppError(ErrorCode.ModelInvalid, `Whisper model "${path}" is not a file; expected ${EXPECTED}.`, false);
    fileBytes = info.size;
    handle = await open(path, 'r');
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(ErrorCode.ModelMissing, `Whisper model file "${path}" was not found or cannot be read; expected ${EXPECTED}.`, false, { cause: error });
  }
  try {
    return await walk(new ChunkedReader(handle, fileBytes), path, fileBytes);
  } catch (error) {
    if (error instanceof ModelFileProblem) {
      throw new AppError(ErrorCode.ModelInvalid, `Whisper model "${path}" ${error.message}; expected ${EXPECTED}.`, false);
    }
    throw error;
  } finally {
    await handle.close();
  }
}

async function walk(reader: ChunkedReader, path: string, fileBytes: number): Promise<WhisperModelSummary> {
  const header = await reader.bytes(HEADER_BYTES, 'the header');
  const magic = header.readUInt32LE(0);
  if (magic !== GGML_FILE_MAGIC) {
    const kind = header.subarray(0, 4).toString('latin1') === 'GGUF' ? ' (it is a GGUF file, e.g. an LLM)' : '';
    throw new ModelFileProblem(`does not start with the ggml magic 0x67676d6c (found 0x${magic.toString(16).padStart(8, '0')})${kind}`);
  }
  const hparams = Object.fromEntries(HPARAM_ORDER.map((key, index) => [key, header.readInt32LE(4 + 4 * index)])) as unknown as WhisperHparams;
  checkHparams(hparams);

  const nMel = await reader.int32('the mel filter header');
  const nFft = await reader.int32('the mel filter header');
  if (nMel !== hparams.nMels || nFft !== MEL_FFT_BINS) {
    throw new ModelFileProblem(`has mel filters of ${nMel}×${nFft}, expected ${hparams.nMels}×${MEL_FFT_BINS}`);
  }
  reader.skip(nMel * nFft * 4, 'the mel filters');

  await checkVocabulary(reader, hparams.nVocab);

  const expected = new Map(whisperTensorSpecs(hparams).map((spec) => [spec.name, spec]));
  const seen = new Set<string>();
  while (fileBytes - reader.position >= 12) {
    const spec = await readTensorHeader(reader, expected);
    if (seen.has(spec.name)) throw new ModelFileProblem(`holds tensor "${spec.name}" twice`);
    seen.add(spec.name);
    reader.skip(tensorDataBytes(spec.ne, spec.type), `the data of tensor "${spec.name}"`);
  }
  if (seen.size === 0) throw new ModelFileProblem('holds no tensors (a test stub without weights)');
  const missing = [...expected.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) throw new ModelFileProblem(`lacks ${missing.length} of ${expected.size} tensors (first: "${missing[0]}")`);

  return {
    path,
    fileBytes,
    hparams,
    weightType: GGML_TYPES[weightTypeForFtype(hparams.ftype)!]!.name,
    tensorCount: seen.size,
    multilingual: hparams.nVocab >= 51865,
  };
}

function checkHparams(h: WhisperHparams): void {
  const problems: string[] = [];
  if (!WHISPER_VOCAB_SIZES.includes(h.nVocab)) problems.push(`n_vocab ${h.nVocab} (expected ${WHISPER_VOCAB_SIZES.join(', ')})`);
  if (h.nAudioCtx !== WHISPER_AUDIO_CTX) problems.push(`n_audio_ctx ${h.nAudioCtx} (expected ${WHISPER_AUDIO_CTX})`);
  if (h.nTextCtx !== WHISPER_TEXT_CTX) problems.push(`n_text_ctx ${h.nTextCtx} (expected ${WHISPER_TEXT_CTX})`);
  if (!(h.nAudioState >= 1 && h.nAudioState <= 8192)) problems.push(`n_audio_state ${h.nAudioState}`);
  if (h.nTextState !== h.nAudioState) problems.push(`n_text_state ${h.nTextState} (must equal n_audio_state ${h.nAudioState})`);
  for (const [head, state, name] of [[h.nAudioHead, h.nAudioState, 'n_audio_head'], [h.nTextHead, h.nTextState, 'n_text_head']] as const) {
    if (!(head >= 1 && state % head === 0)) problems.push(`${name} ${head} (must divide ${state})`);
  }
  for (const [layers, name] of [[h.nAudioLayer, 'n_audio_layer'], [h.nTextLayer, 'n_text_layer']] as const) {
    if (!(layers >= 1 && layers <= 128)) problems.push(`${name} ${layers}`);
  }
  if (h.nMels !== 80 && h.nMels !== 128) problems.push(`n_mels ${h.nMels} (expected 80 or 128)`);
  if (weightTypeForFtype(h.ftype) === undefined) problems.push(`ftype ${h.ftype} (unsupported)`);
  if (problems.length > 0) throw new ModelFileProblem(`has an invalid header: ${problems.join(', ')}`);
}

async function checkVocabulary(reader: ChunkedReader, nVocab: number): Promise<void> {
  const count = await reader.int32('the vocabulary size');
  if (count < 0 || count > nVocab) throw new ModelFileProblem(`declares ${count} vocabulary entries, expected at most ${nVocab}`);
  let hasSpace = false;
  for (let id = 0; id < count; id++) {
    const what = `vocabulary entry ${id}`;
    // Entries are parsed from the buffered chunk; I/O only when it runs out.
    if (!reader.buffered(4 + MAX_TOKEN_BYTES)) await reader.need(4, what);
    const length = reader.take(4, what).readInt32LE(0);
    if (length < 0 || length > MAX_TOKEN_BYTES) throw new ModelFileProblem(`has vocabulary entry ${id} of ${length} bytes`);
    if (!reader.buffered(length)) await reader.need(length, what);
    const token = reader.take(length, what);
    hasSpace ||= length === 1 && token[0] === 0x20;
  }
  // whisper.cpp looks " " up by text when suppressing blanks and throws mid-transcription without it.
  if (!hasSpace) throw new ModelFileProblem('has no " " token in its vocabulary');
}

async function readTensorHeader(reader: ChunkedReader, expected: Map<string, TensorSpec>): Promise<TensorSpec> {
  const at = reader.position;
  const head = await reader.bytes(12, `the tensor header at offset ${at}`, 512);
  const nDims = head.readInt32LE(0);
  const nameBytes = head.readInt32LE(4);
  const type = head.readInt32LE(8);
  if (nDims < 1 || nDims > 4 || nameBytes < 1 || nameBytes > MAX_TENSOR_NAME_BYTES) {
    throw new ModelFileProblem(`has a malformed tensor header at offset ${at} (${nDims} dims, ${nameBytes}-byte name)`);
  }
  const dims = await reader.bytes(4 * nDims, `the tensor header at offset ${at}`, 512);
  const ne = Array.from({ length: nDims }, (_, i) => dims.readInt32LE(4 * i));
  const name = (await reader.bytes(nameBytes, `the tensor name at offset ${at}`, 512)).toString('utf8');
  const spec = expected.get(name);
  if (!spec) throw new ModelFileProblem(`holds tensor "${name}", which whisper.cpp does not know for these hyperparameters`);
  if (!sameShape(ne, spec.ne)) throw new ModelFileProblem(`has tensor "${name}" shaped [${ne.join(', ')}], expected [${spec.ne.join(', ')}]`);
  if (type !== spec.type) {
    const typeName = (id: number): string => GGML_TYPES[id]?.name ?? `type ${id}`;
    throw new ModelFileProblem(`has tensor "${name}" stored as ${typeName(type)}, expected ${typeName(spec.type)}`);
  }
  const blockElements = GGML_TYPES[type]!.blockElements;
  if (spec.ne[0]! % blockElements !== 0) {
    throw new ModelFileProblem(`has tensor "${name}" quantized in blocks of ${blockElements}, which do not divide its rows of ${spec.ne[0]}`);
  }
  return spec;
}

/** Shapes compare as whisper.cpp's 4-d `ne`: missing dims count as 1. */
function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  for (let i = 0; i < 4; i++) if ((actual[i] ?? 1) !== (expected[i] ?? 1)) return false;
  return true;
}

/** Sequential reads over a file handle, a chunk at a time; every read is bounds-checked. */
class ChunkedReader {
  position = 0;
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  /** Brings `length` bytes from the position into memory (reading `readAheadBytes` ahead). */
  async need(length: number, what: string, readAheadBytes = 1 << 20): Promise<void> {
    this.ensureAvailable(length, what);
    if (this.buffered(length)) return;
    const want = Math.min(Math.max(length, readAheadBytes), this.size - this.position);
    const chunk = Buffer.alloc(want);
    const { bytesRead } = await this.handle.read(chunk, 0, want, this.position);
    if (bytesRead < length) throw new ModelFileProblem(`could not be read at offset ${this.position}`);
    this.chunk = chunk.subarray(0, bytesRead);
    this.chunkStart = this.position;
  }

  /** True when `length` bytes from the position are in memory. */
  buffered(length: number): boolean {
    return this.position >= this.chunkStart && this.position + length <= this.chunkStart + this.chunk.length;
  }

  /** The next `length` bytes, which `need` has brought into memory. */
  take(length: number, what: string): Buffer {
    this.ensureAvailable(length, what);
    if (!this.buffered(length)) throw new Error(`${what} was read before it was buffered`);
    const offset = this.position - this.chunkStart;
    this.position += length;
    return this.chunk.subarray(offset, offset + length);
  }

  async bytes(length: number, what: string, readAheadBytes?: number): Promise<Buffer> {
    await this.need(length, what, readAheadBytes);
    return this.take(length, what);
  }

  async int32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readInt32LE(0);
  }

  skip(length: number, what: string): void {
    this.ensureAvailable(length, what);
    this.position += length;
  }

  private ensureAvailable(length: number, what: string): void {
    if (this.position + length > this.size) {
      throw new ModelFileProblem(
        `is truncated: ${what} needs ${length} bytes at offset ${this.position} but the file has ${this.size} bytes (an incomplete download?)`,
      );
    }
  }
}
