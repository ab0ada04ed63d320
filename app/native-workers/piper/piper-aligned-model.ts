import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { addDurationsOutput, durationsTensorName, hasDurationsOutput, inspectPiperGraph, OnnxPatchError } from './piper-alignment-patch';

/**
 * The voice model with its durations output: the file itself when it already has one, otherwise a
 * patched copy in a cache folder, named after the source's content hash (a replaced voice gets a
 * new copy; the source is never modified). Patching takes well under a second, so a missing or
 * deleted cache only costs that once.
 */

const PIPER_INPUTS = ['input', 'input_lengths', 'scales'];
const AUDIO_OUTPUT = 'output';

export interface AlignedModel {
  /** File to load: the voice itself, or its patched copy. */
  path: string;
  /** Name of the durations output (w_ceil). */
  durationsOutput: string;
  /** Speaker input present (multi-speaker voice). */
  hasSpeakerInput: boolean;
  /** Where the durations output came from. */
  source: 'model' | 'cache' | 'patched';
}

/** Per-user cache folder for patched voices (never inside the repository). */
export function defaultAlignmentCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = homedir();
  const base =
    platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : (env.XDG_CACHE_HOME ?? join(home, '.cache'));
  return join(base, 'local-talking-avatar', 'piper-aligned');
}

function invalid(modelPath: string, why: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `The Piper voice model ${modelPath} ${why}`, false);
}

/** Loads the bytes of `modelPath`; a missing file is model_missing. */
async function readModel(modelPath: string): Promise<Buffer> {
  try {
    return await readFile(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AppError(ErrorCode.ModelMissing, `The Piper voice model is missing: ${modelPath}`, false);
    throw invalid(modelPath, `cannot be read (${code ?? String(error)})`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Checks the voice graph (Piper inputs, the audio output, one Ceil node) and returns the model to
 * load with its durations output, patching into `cacheDir` when needed.
 */
export async function ensureAlignedModel(modelPath: string, cacheDir: string = defaultAlignmentCacheDir()): Promise<AlignedModel> {
  const bytes = await readModel(modelPath);
  let durationsOutput: string;
  let info: ReturnType<typeof inspectPiperGraph>;
  try {
    info = inspectPiperGraph(bytes);
    durationsOutput = durationsTensorName(info);
  } catch (error) {
    if (error instanceof OnnxPatchError) throw invalid(modelPath, `is not a Piper voice: ${error.message}.`);
    throw error;
  }
  const inputsOk = PIPER_INPUTS.every((name) => info.inputNames.includes(name)) && info.inputNames.every((name) => PIPER_INPUTS.includes(name) || name === 'sid');
  if (!inputsOk || !info.outputNames.includes(AUDIO_OUTPUT)) {
    throw invalid(modelPath, `has inputs (${info.inputNames.join(', ')}) and outputs (${info.outputNames.join(', ')}); a Piper voice has inputs (${PIPER_INPUTS.join(', ')}[, sid]) and output "${AUDIO_OUTPUT}".`);
  }
  const hasSpeakerInput = info.inputNames.includes('sid');
  if (hasDurationsOutput(info)) return { path: modelPath, durationsOutput, hasSpeakerInput, source: 'model' };

  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const cachedPath = join(cacheDir, `${basename(modelPath).replace(/\.onnx$/u, '')}.${digest}.aligned.onnx`);
  if (await exists(cachedPath)) return { path: cachedPath, durationsOutput, hasSpeakerInput, source: 'cache' };

  const patched = addDurationsOutput(bytes);
  const partialPath = `${cachedPath}.${process.pid}.${Date.now()}.partial`;
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(partialPath, patched.bytes);
    await rename(partialPath, cachedPath);
  } catch (error) {
    await rm(partialPath, { force: true });
    throw new AppError(ErrorCode.Internal, `Cannot write the patched Piper voice to ${cacheDir}: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  return { path: cachedPath, durationsOutput: patched.durationsOutput, hasSpeakerInput, source: 'patched' };
}
