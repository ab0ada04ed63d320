import { constants } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import {
  HashPolicy,
  ModelEngine,
  ModelFormat,
  ModelIdSchema,
  type Catalog,
  type CatalogEntry,
  type CatalogFile,
  type ModelKind,
  type ModelTier,
  type PullProgress,
} from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { formatMegabytes as mb } from '../../shared/format/bytes';
import { freeDiskBytes } from './disk-space';
import { loadCatalog } from './model-catalog';
import { resolveCatalogPath, resolveModelsDir } from './model-paths';
import { digestOfFile, sha256OfFile } from './file-hash';
import { describeFormat, detectFileFormat } from './model-format';
import { checkModelFormat, requireModelFile } from './model-file-check';
import { ModelRegistry, pinKey, type InstalledFile, type InstalledModel, type RegistryData } from './model-registry';
import { takePullLock } from './pull-lock';
import { downloadResumable } from './resumable-download';

export interface ModelManagerOptions {
  /** The models folder (see resolveModelsDir). */
  dir: string;
  catalog: Catalog;
  /** Free bytes where models go; tests inject a figure. Default: fs.statfs. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Network retries per file after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay between attempts (default 1000 ms, doubled each time). */
  retryDelayMs?: number;
  /** Drop and retry a connection silent for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Least time between two progress events (default 200 ms; the last event is always sent). */
  progressIntervalMs?: number;
  fetchImpl?: typeof fetch;
}

/** A catalog entry (or an imported model outside the catalog) with its installed state. */
export interface ModelListing {
  id: string;
  title: string;
  kind: ModelKind | null;
  engine: ModelEngine | null;
  tiers: ModelTier[];
  licence: string | null;
  /** Sum of the files' sizes; null when a size is unknown (then see approxSizeMb). */
  sizeBytes: number | null;
  approxSizeMb: number;
  hashPolicy: HashPolicy;
  /** The publisher's digest checked before a sha256 is pinned (files without a catalog sha256). */
  publishedDigest: 'md5' | 'sha1' | null;
  inCatalog: boolean;
  installed: boolean;
  origin: InstalledModel['origin'] | null;
  /** Absolute path of the main file when installed. */
  path: string | null;
}

export interface PullOptions {
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
}

export interface PulledFile {
  fileName: string;
  path: string;
  sizeBytes: number;
  sha256: string;
  /** True when this download pinned the hash (the catalog had none). */
  pinnedNow: boolean;
}

export interface PullResult {
  id: string;
  /** Absolute path of the main file. */
  path: string;
  /** True when the model was already installed and nothing was fetched. */
  alreadyInstalled: boolean;
  files: PulledFile[];
}

export interface ImportOptions {
  /** `copy` (default; a copy-on-write clone where the file system can) or `link` (hard link, falls back to copy). */
  mode?: 'copy' | 'link';
}

export interface ImportResult {
  id: string;
  path: string;
  inCatalog: boolean;
  files: InstalledFile[];
}

/** The model manager the engine, UI and CLI use. */
export interface ModelManager {
  readonly dir: string;
  readonly catalog: Catalog;
  list(): Promise<ModelListing[]>;
  pull(id: string, options?: PullOptions): Promise<PullResult>;
  import(path: string, id?: string, options?: ImportOptions): Promise<ImportResult>;
  /** Absolute path of an installed model's main file, or AppError(model_missing) saying what to do. */
  resolve(id: string): Promise<string>;
}

const engineByFormat: Record<ModelFormat, ModelEngine | null> = {
  [ModelFormat.Gguf]: ModelEngine.Llama,
  [ModelFormat.WhisperGgml]: ModelEngine.Whisper,
  [ModelFormat.Onnx]: null,
  [ModelFormat.Json]: null,
};

function expectedBytes(file: CatalogFile): number {
  return file.sizeBytes ?? Math.round((file.approxSizeMb ?? 0) * 1e6);
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The registry's record of `id`, never an inherited property of the object (`constructor`). */
function installedModel(data: RegistryData, id: string): InstalledModel | undefined {
  return Object.hasOwn(data.models, id) ? data.models[id] : undefined;
}

/** Moving-window transfer rate, so the ETA follows the current speed. */
class RateMeter {
  private samples: Array<{ atMs: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, atMs = performance.now()): number {
    this.samples.push({ atMs, bytes });
    while (this.samples.length > 2 && atMs - this.samples[0]!.atMs > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const elapsedSec = (atMs - first.atMs) / 1000;
    return elapsedSec > 0 ? (bytes - first.bytes) / elapsedSec : 0;
  }
}

/** Creates the manager for one models folder and catalog. */
export function createModelManager(options: ModelManagerOptions): ModelManager {
  const dir = resolvePath(options.dir);
  const { catalog } = options;
  const registry = new ModelRegistry(dir);
  const freeBytes = options.freeBytes ?? freeDiskBytes;
  const progressIntervalMs = options.progressIntervalMs ?? 200;

  const findEntry = (id: string): CatalogEntry | undefined => catalog.models.find((m) => m.id === id);
  const modelDir = (id: string): string => join(dir, id);

  function requireEntry(id: string): CatalogEntry {
    const entry = findEntry(id);
    if (!entry) {
      throw new AppError(ErrorCode.ModelMissing, `There is no model "${id}" in the catalog (see \`npm run models -- list\`).`, false);
    }
    return entry;
  }

  async function installedFilesPresent(model: InstalledModel): Promise<boolean> {
    for (const file of model.files) {
      if ((await sizeOf(join(modelDir(model.id), file.fileName))) !== file.sizeBytes) return false;
    }
    return true;
  }

  async function checkDiskSpace(neededBytes: number, what: string): Promise<void> {
    if (neededBytes <= 0) return;
    const free = await freeBytes(dir);
    if (free < neededBytes) {
      throw new AppError(
        ErrorCode.ModelTooLarge,
        `Not enough free disk space in ${dir} for ${what}: it needs ${mb(neededBytes)} more, and ${mb(free)} are free.`,
        true,
      );
    }
  }

  async function list(): Promise<ModelListing[]> {
    const data = await registry.read();
    const listings: ModelListing[] = [];
    for (const entry of catalog.models) {
      const installed = installedModel(data, entry.id);
      const present = installed ? await installedFilesPresent(installed) : false;
      const sizes = entry.files.map((f) => f.sizeBytes);
      listings.push({
        id: entry.id,
        title: entry.title,
        kind: entry.kind,
        engine: entry.engine,
        tiers: entry.tiers,
        licence: entry.licence,
        sizeBytes: sizes.every((s) => s !== null) ? sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : null,
        approxSizeMb: Math.round(entry.files.reduce((a, f) => a + expectedBytes(f), 0) / 1e6),
        hashPolicy: entry.files.every((f) => f.hashPolicy === HashPolicy.Pinned)
          ? HashPolicy.Pinned
          : HashPolicy.PinOnFirstDownload,
        publishedDigest: entry.files.find((f) => f.sha256 === null)?.publishedDigest?.algorithm ?? null,
        inCatalog: true,
        installed: present,
        origin: present ? installed!.origin : null,
        path: present ? join(modelDir(entry.id), entry.files[0]!.fileName) : null,
      });
    }
    for (const model of Object.values(data.models)) {
      if (findEntry(model.id)) continue;
      const present = await installedFilesPresent(model);
      const sizeBytes = model.files.reduce((a, f) => a + f.sizeBytes, 0);
      listings.push({
        id: model.id,
        title: model.files[0]!.fileName,
        kind: null,
        engine: model.engine,
        tiers: [],
        licence: null,
        sizeBytes,
        approxSizeMb: Math.round(sizeBytes / 1e6),
        hashPolicy: HashPolicy.Pinned,
        publishedDigest: null,
        inCatalog: false,
        installed: present,
        origin: model.origin,
        path: present ? join(modelDir(model.id), model.files[0]!.fileName) : null,
      });
    }
    return listings;
  }

  async function pull(id: string, pullOptions: PullOptions = {}): Promise<PullResult> {
    const entry = requireEntry(id);
    const { signal, onProgress } = pullOptions;
    const target = modelDir(id);
    const mainPath = join(target, entry.files[0]!.fileName);

    const before = await registry.read();
    const existing = installedModel(before, id);
    if (existing && (await installedFilesPresent(existing))) {
      return {
        id,
        path: mainPath,
        alreadyInstalled: true,
        files: existing.files.map((f) => ({ ...f, path: join(target, f.fileName), pinnedNow: false })),
      };
    }

    await mkdir(target, { recursive: true });
    const release = await takePullLock(join(target, '.pull.lock'), `Model "${id}"`);
    try {
      // Bytes still to fetch: what the part files do not hold yet.
      let neededBytes = 0;
      for (const file of entry.files) {
        if ((await sizeOf(join(target, file.fileName))) !== null) continue;
        const partBytes = (await sizeOf(join(target, `${file.fileName}.part`))) ?? 0;
        neededBytes += Math.max(0, expectedBytes(file) - partBytes);
      }
      await checkDiskSpace(neededBytes, `model "${id}"`);

      const received = entry.files.map(() => 0);
      const totals: Array<number | null> = entry.files.map((f) => f.sizeBytes);
      const meter = new RateMeter();
      let lastEmitMs = -Infinity;
      const emit = (force: boolean): void => {
        if (!onProgress) return;
        const nowMs = performance.now();
        const receivedBytes = received.reduce((a, b) => a + b, 0);
        const bytesPerSec = meter.add(receivedBytes, nowMs);
        if (!force && nowMs - lastEmitMs < progressIntervalMs) return;
        lastEmitMs = nowMs;
        const totalBytes = totals.every((t) => t !== null) ? totals.reduce<number>((a, t) => a + (t ?? 0), 0) : null;
        onProgress({ id, receivedBytes, totalBytes, bytesPerSec });
      };

      const pulled: PulledFile[] = [];
      for (const [index, file] of entry.files.entries()) {
        const finalPath = join(target, file.fileName);
        const pinned = file.sha256 ?? before.pins[pinKey(id, file.fileName)] ?? null;
        const presentBytes = await sizeOf(finalPath);
        if (presentBytes !== null) {
          // Left by an earlier run whose registry update did not happen: keep it only if it verifies.
          const sha256 = await sha256OfFile(finalPath, signal);
          const sizeOk = file.sizeBytes === null || presentBytes === file.sizeBytes;
          const digest = file.publishedDigest;
          const digestOk = !digest || (await digestOfFile(finalPath, digest.algorithm, signal)) === digest.hex;
          if (sizeOk && digestOk && (pinned === null || sha256 === pinned)) {
            received[index] = presentBytes;
            totals[index] = presentBytes;
            pulled.push({ fileName: file.fileName, path: finalPath, sizeBytes: presentBytes, sha256, pinnedNow: pinned === null });
            continue;
          }
          await rm(finalPath, { force: true });
        }
        const result = await downloadResumable({
          url: file.url,
          partPath: `${finalPath}.part`,
          expectedSizeBytes: file.sizeBytes,
          expectedSha256: pinned,
          publishedDigest: file.publishedDigest,
          signal,
          retries: options.retries,
          retryDelayMs: options.retryDelayMs,
          idleTimeoutMs: options.idleTimeoutMs,
          fetchImpl: options.fetchImpl,
          onBytes: (bytes, total) => {
            received[index] = bytes;
            if (total !== null) totals[index] = total;
            emit(false);
          },
        });
        await rename(`${finalPath}.part`, finalPath);
        received[index] = result.sizeBytes;
        totals[index] = result.sizeBytes;
        pulled.push({
          fileName: file.fileName,
          path: finalPath,
          sizeBytes: result.sizeBytes,
          sha256: result.sha256,
          pinnedNow: pinned === null,
        });
      }
      emit(true);

      await registry.update((data) => {
        for (const file of pulled) {
          if (file.pinnedNow) data.pins[pinKey(id, file.fileName)] = file.sha256;
        }
        data.models[id] = {
          id,
          origin: 'download',
          engine: entry.engine,
          installedAt: new Date().toISOString(),
          files: pulled.map((file, index) => ({
            fileName: file.fileName,
            format: entry.files[index]!.format,
            sizeBytes: file.sizeBytes,
            sha256: file.sha256,
          })),
        };
      });
      return { id, path: mainPath, alreadyInstalled: false, files: pulled };
    } finally {
      await release();
    }
  }

  /** Finds the catalog entry an imported file belongs to, by id or by its file name. */
  function entryForImport(sourcePath: string, id: string | undefined): CatalogEntry | undefined {
    if (id !== undefined) return requireEntry(id);
    const name = basename(sourcePath);
    return catalog.models.find((m) => m.files[0]!.fileName === name);
  }

  async function importModel(sourcePath: string, id?: string, importOptions: ImportOptions = {}): Promise<ImportResult> {
    const source = resolvePath(sourcePath);
    await requireModelFile(source);
    const format = await detectFileFormat(source);
    if (format === null || format === ModelFormat.Json) {
      throw new AppError(
        ErrorCode.ModelInvalid,
        `${source} is not a model file this app can use (expected a GGUF, whisper.cpp ggml or ONNX model).`,
        false,
      );
    }
    const entry = entryForImport(source, id);
    const pins = (await registry.read()).pins;

    // Each file to place: the model, plus companions the catalog lists (a Piper voice's .onnx.json).
    const plan: Array<{ from: string; fileName: string; format: ModelFormat; expected: CatalogFile | null }> = [];
    if (entry) {
      const main = entry.files[0]!;
      if (main.format !== format) {
        throw new AppError(
          ErrorCode.ModelInvalid,
          `${source} is ${describeFormat(format)}, but "${entry.id}" needs ${describeFormat(main.format)}.`,
          false,
        );
      }
      plan.push({ from: source, fileName: main.fileName, format, expected: main });
      for (const companion of entry.files.slice(1)) {
        const candidates = [join(dirname(source), companion.fileName), `${source}.json`];
        let found: string | undefined;
        for (const candidate of candidates) {
          if ((await sizeOf(candidate)) !== null) {
            found = candidate;
            break;
          }
        }
        if (!found) {
          throw new AppError(
            ErrorCode.ModelMissing,
            `"${entry.id}" also needs ${companion.fileName}; put it next to ${source} and import again.`,
            false,
          );
        }
        plan.push({ from: found, fileName: companion.fileName, format: companion.format, expected: companion });
      }
    } else {
      plan.push({ from: source, fileName: basename(source), format, expected: null });
      if (format === ModelFormat.Onnx && (await sizeOf(`${source}.json`)) !== null) {
        plan.push({ from: `${source}.json`, fileName: `${basename(source)}.json`, format: ModelFormat.Json, expected: null });
      }
    }
    const modelId =
      entry?.id ??
      basename(source)
        .toLowerCase()
        .replace(/\.(gguf|bin|onnx)$/, '')
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '')
        .slice(0, 80);
    if (!ModelIdSchema.safeParse(modelId).success) {
      throw new AppError(ErrorCode.ModelInvalid, `Cannot name a model after ${source}; give --id.`, false);
    }
    // The same checks a load runs: a truncated or damaged model is refused before it is copied.
    for (const item of plan) {
      await requireModelFile(item.from);
      await checkModelFormat(item.format, item.from);
    }

    const files: InstalledFile[] = [];
    for (const item of plan) {
      const bytes = (await sizeOf(item.from))!;
      const expected = item.expected;
      if (expected?.sizeBytes != null && bytes !== expected.sizeBytes) {
        throw new AppError(
          ErrorCode.ModelInvalid,
          `${item.from} has ${bytes} bytes, but "${modelId}" (${expected.fileName}) has ${expected.sizeBytes}; it is a different or damaged file.`,
          false,
        );
      }
      const sha256 = await sha256OfFile(item.from);
      const known = expected ? (expected.sha256 ?? pins[pinKey(modelId, expected.fileName)] ?? null) : null;
      if (known !== null && sha256 !== known) {
        throw new AppError(
          ErrorCode.ModelInvalid,
          `${item.from} does not match "${modelId}": its sha256 is ${sha256}, the catalog's is ${known}.`,
          false,
        );
      }
      const digest = expected?.publishedDigest;
      if (digest && (await digestOfFile(item.from, digest.algorithm)) !== digest.hex) {
        throw new AppError(
          ErrorCode.ModelInvalid,
          `${item.from} does not match "${modelId}": its ${digest.algorithm} differs from the published ${digest.hex}.`,
          false,
        );
      }
      files.push({ fileName: item.fileName, format: item.format, sizeBytes: bytes, sha256 });
    }

    const target = modelDir(modelId);
    await mkdir(target, { recursive: true });
    const mode = importOptions.mode ?? 'copy';
    let neededBytes = 0;
    if (mode === 'copy') for (const file of files) neededBytes += file.sizeBytes;
    await checkDiskSpace(neededBytes, `importing ${basename(source)}`);
    for (const item of plan) {
      const finalPath = join(target, item.fileName);
      if (resolvePath(item.from) === finalPath) continue;
      const staging = `${finalPath}.import`;
      await rm(staging, { force: true });
      let linked = false;
      if (mode === 'link') linked = await link(item.from, staging).then(() => true, () => false);
      if (!linked) await copyFile(item.from, staging, constants.COPYFILE_FICLONE);
      await rename(staging, finalPath);
    }

    await registry.update((data) => {
      for (const [index, item] of plan.entries()) {
        if (item.expected && item.expected.sha256 === null) data.pins[pinKey(modelId, item.fileName)] = files[index]!.sha256;
      }
      data.models[modelId] = {
        id: modelId,
        origin: 'import',
        engine: entry?.engine ?? engineByFormat[format] ?? (plan.length > 1 ? ModelEngine.Piper : null),
        installedAt: new Date().toISOString(),
        files,
      };
    });
    return { id: modelId, path: join(target, plan[0]!.fileName), inCatalog: entry !== undefined, files };
  }

  async function resolve(id: string): Promise<string> {
    const installed = installedModel(await registry.read(), id);
    if (!installed) {
      const hint = findEntry(id)
        ? `run \`npm run models -- pull ${id}\` or import a copy you already have`
        : 'it is neither in the catalog nor imported';
      throw new AppError(ErrorCode.ModelMissing, `Model "${id}" is not installed: ${hint}.`, true);
    }
    for (const file of installed.files) {
      const path = join(modelDir(id), file.fileName);
      if ((await sizeOf(path)) !== file.sizeBytes) {
        throw new AppError(
          ErrorCode.ModelMissing,
          `The file ${path} of model "${id}" is missing or changed; pull or import the model again.`,
          true,
        );
      }
    }
    return join(modelDir(id), installed.files[0]!.fileName);
  }

  return { dir, catalog, list, pull, import: importModel, resolve };
}

export interface OpenModelManagerOptions extends Omit<ModelManagerOptions, 'dir' | 'catalog'> {
  /** An explicit models folder (see resolveModelsDir for the defaults). */
  dir?: string;
  /** The user's models-folder setting. */
  settingDir?: string;
  /** A catalog file other than the shipped one (see resolveCatalogPath). */
  catalogPath?: string;
}

/** The manager as the engine and CLI use it: default folder and shipped catalog, both overridable. */
export async function openModelManager(options: OpenModelManagerOptions = {}): Promise<ModelManager> {
  const { dir, settingDir, catalogPath, ...rest } = options;
  const catalog = await loadCatalog(resolveCatalogPath(catalogPath));
  return createModelManager({ ...rest, dir: resolveModelsDir({ explicitDir: dir, settingDir }), catalog });
}
