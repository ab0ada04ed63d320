/**
 * The development model profile: which PyPI wheels hold the development models and which files are
 * taken out of them (resources/models/dev-models.json, with sha256 pins), and where they live in the
 * cache once fetched (`dev-models.profile.json`: absolute paths, read by the model profile and tests).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelKindSchema } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { appRoot } from '../app-paths';
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
  /** Absent in profiles written before the end-of-turn model joined the dev models. */
  turn: z.object({ smartTurnOnnxPath: z.string(), referenceFeaturesPath: z.string() }).optional(),
  sources: z.array(z.object({ name: z.string(), version: z.string(), license: z.string() })),
});
export type DevModelProfile = z.infer<typeof DevModelProfileSchema>;

export const PROFILE_FILE_NAME = 'dev-models.profile.json';

/** The cache folder: env AVATAR_DEV_MODELS_DIR, else under ~/.cache. */
export function resolveDevModelsDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return env.AVATAR_DEV_MODELS_DIR || join(home, '.cache', appDataName, 'dev-models');
}

export function defaultDevManifestPath(): string {
  return join(appRoot, 'resources', 'models', 'dev-models.json');
}

export function readDevManifest(path: string = defaultDevManifestPath()): DevModelsManifest {
  return DevModelsManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
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

/** Where a file taken out of a package's wheel is kept (the Whisper model's CTranslate2 files in `ct2/`). */
export function extractedPath(cacheDir: string, pkg: DevPackage, fileName: string): string {
  return pkg.role === 'stt' ? join(packageDir(cacheDir, pkg), 'ct2', fileName) : join(packageDir(cacheDir, pkg), fileName);
}

/** The profile file's exact text (compared to tell whether a cache is current). */
export function profileJson(profile: DevModelProfile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}

/** The registered profile of a cache folder, or undefined when `models dev` has not completed there. */
export function readDevModelProfile(cacheDir: string = resolveDevModelsDir()): DevModelProfile | undefined {
  const path = join(cacheDir, PROFILE_FILE_NAME);
  if (!existsSync(path)) return undefined;
  return DevModelProfileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}
