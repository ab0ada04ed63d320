import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelEngine, ModelFormat } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { writeFileAtomically } from '../files/atomic-write';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const InstalledFileSchema = z.object({
  fileName: z.string().min(1),
  format: z.enum(Object.values(ModelFormat) as [ModelFormat, ...ModelFormat[]]),
  sizeBytes: z.number().int().nonnegative(),
  sha256,
});
export type InstalledFile = z.infer<typeof InstalledFileSchema>;

const InstalledModelSchema = z.object({
  id: z.string().min(1),
  origin: z.enum(['download', 'import']),
  engine: z.enum(Object.values(ModelEngine) as [ModelEngine, ...ModelEngine[]]).nullable(),
  installedAt: z.string(),
  files: z.array(InstalledFileSchema).min(1),
});
export type InstalledModel = z.infer<typeof InstalledModelSchema>;

const RegistrySchema = z.object({
  version: z.literal(1),
  models: z.record(z.string(), InstalledModelSchema),
  /** Hashes learned on first download of files the catalog gives no sha256 for, by "id/fileName". */
  pins: z.record(z.string(), sha256),
});
export type RegistryData = z.infer<typeof RegistrySchema>;

export const registryFileName = 'installed.json';

function emptyRegistry(): RegistryData {
  return { version: 1, models: {}, pins: {} };
}

/** Key of a pinned hash. */
export function pinKey(id: string, fileName: string): string {
  return `${id}/${fileName}`;
}

/**
 * The installed-models list (installed.json in the models folder). Every change is written to a
 * temporary file, flushed and renamed over the old one, so a crash never leaves half a list.
 * Changes from this process are applied one after another.
 */
export class ModelRegistry {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    this.path = join(dir, registryFileName);
  }

  /** The current list; a missing file is an empty list, a damaged one is set aside as `.damaged`. */
  async read(): Promise<RegistryData> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
      throw new AppError(ErrorCode.Internal, `Cannot read the installed-models list ${this.path}.`, true, {
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = RegistrySchema.safeParse(parsed);
    if (result.success) return result.data;
    // Model files stay on disk; a later pull re-verifies and re-registers them.
    await rename(this.path, `${this.path}.damaged`).catch(() => undefined);
    return emptyRegistry();
  }

  /** Applies `change` to the list and saves it atomically; returns what `change` returned. */
  update<T>(change: (data: RegistryData) => T): Promise<T> {
    const run = async (): Promise<T> => {
      const data = await this.read();
      const result = change(data);
      await this.write(data);
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(data: RegistryData): Promise<void> {
    try {
      await writeFileAtomically(this.path, `${JSON.stringify(data, null, 2)}\n`, { sync: true });
    } catch (error) {
      throw new AppError(ErrorCode.Internal, `Cannot save the installed-models list ${this.path}.`, true, {
        cause: error,
      });
    }
  }
}
