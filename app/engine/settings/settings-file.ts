import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { defaultEngineSettings, EngineSettingsSchema, type EngineSettings } from '../../shared/settings.contract';
import { writeFileAtomically } from '../files/atomic-write';

export const SETTINGS_FILE_NAME = 'settings.json';

/** What loading found: the settings to use, and a warning in words when the file was unusable. */
export interface LoadedSettings {
  settings: EngineSettings;
  warning?: string;
}

/**
 * The engine settings file (`<data dir>/settings.json`). Reading never throws: a missing file is
 * the defaults, a corrupt one is the defaults plus a warning (and is kept aside as `.corrupt` so
 * nothing the user wrote is lost). Writes are atomic (temporary file + rename) and serialized.
 */
export class SettingsFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, SETTINGS_FILE_NAME);
  }

  async load(): Promise<LoadedSettings> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: defaultEngineSettings };
      return { settings: defaultEngineSettings, warning: `The settings file ${this.path} could not be read (${(error as Error).message}); using the defaults.` };
    }
    let problem: string;
    try {
      const parsed = EngineSettingsSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { settings: parsed.data };
      const issue = parsed.error.issues[0];
      problem = `${issue?.path.join('.') || 'settings'}: ${issue?.message ?? 'invalid'}`;
    } catch (error) {
      problem = `not valid JSON (${(error as Error).message})`;
    }
    const keptAs = `${this.path}.corrupt`;
    await rename(this.path, keptAs).catch(() => undefined);
    return {
      settings: defaultEngineSettings,
      warning: `The settings file was unusable (${problem}); the defaults are in use and the old file was kept as ${keptAs}.`,
    };
  }

  /** Saves atomically; a failure is AppError(internal) in words (the previous file stays intact). */
  save(settings: EngineSettings): Promise<void> {
    const parsed = EngineSettingsSchema.safeParse(settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return Promise.reject(new AppError(ErrorCode.InvalidMessage, `These settings are not valid (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}).`, true));
    }
    const valid = parsed.data;
    const run = async (): Promise<void> => {
      try {
        await writeFileAtomically(this.path, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 });
      } catch (error) {
        throw new AppError(ErrorCode.Internal, `The settings could not be saved to ${this.path}: ${(error as Error).message}`, true, { cause: error });
      }
    };
    const result = this.writing.then(run);
    this.writing = result.catch(() => undefined);
    return result;
  }
}
