/**
 * Patches a Piper voice so it outputs its per-phoneme-id durations, and checks the result with
 * onnxruntime. The worker patches on load by itself; this is for doing it ahead of time, for
 * another folder, or for looking at a voice.
 *
 *   npx tsx scripts/piper-alignment.ts <voice.onnx> [--out <patched.onnx>] [--cache-dir <dir>]
 *
 * Without --out the patched copy goes to the per-user cache (where the worker looks for it); the
 * source file is never modified and nothing is written into the repository. Exit 0 when the
 * patched model opens in onnxruntime with both outputs, 1 otherwise.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { defaultAlignmentCacheDir, ensureAlignedModel } from '../app/native-workers/piper/piper-aligned-model';
import { addDurationsOutput, hasDurationsOutput, inspectPiperGraph } from '../app/native-workers/piper/piper-alignment-patch';
import { AppError } from '../app/shared/errors.contract';

export interface PatchCommandResult {
  path: string;
  durationsOutput: string;
  outputNames: string[];
}

/** Patches `modelPath` (into `out`, or the cache) and opens the result to list its outputs. */
export async function patchPiperVoice(modelPath: string, options: { out?: string; cacheDir?: string } = {}): Promise<PatchCommandResult> {
  let path: string;
  let durationsOutput: string;
  if (options.out) {
    const bytes = await readFile(modelPath);
    const info = inspectPiperGraph(bytes);
    const patched = hasDurationsOutput(info) ? { bytes, durationsOutput: info.ceilOutputs[0]! } : addDurationsOutput(bytes);
    await writeFile(`${options.out}.partial`, patched.bytes);
    await rename(`${options.out}.partial`, options.out);
    path = options.out;
    durationsOutput = patched.durationsOutput;
  } else {
    const aligned = await ensureAlignedModel(modelPath, options.cacheDir ?? defaultAlignmentCacheDir());
    path = aligned.path;
    durationsOutput = aligned.durationsOutput;
  }
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  try {
    return { path, durationsOutput, outputNames: [...session.outputNames] };
  } finally {
    await session.release();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, 'cache-dir': { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.error('usage: npx tsx scripts/piper-alignment.ts <voice.onnx> [--out <patched.onnx>] [--cache-dir <dir>]');
    return 1;
  }
  try {
    const result = await patchPiperVoice(resolve(positionals[0]!), {
      ...(values.out ? { out: resolve(values.out) } : {}),
      ...(values['cache-dir'] ? { cacheDir: resolve(values['cache-dir']) } : {}),
    });
    console.log(`patched voice: ${result.path}`);
    console.log(`onnxruntime outputs: ${result.outputNames.join(', ')} (durations: ${result.durationsOutput})`);
    return result.outputNames.length === 2 && result.outputNames.includes(result.durationsOutput) ? 0 : 1;
  } catch (error) {
    console.error(`cannot patch: ${AppError.from(error).message}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
