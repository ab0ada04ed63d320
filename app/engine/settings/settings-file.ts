import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { defaultEngineSettings, EngineSettingsSchema, type EngineSettings } from '../../shared/settings.contract';
import { writeFileAtomically } from '../files/atomic-write';
import { describeWriteError } from '../files/write-error';

export const SETTINGS_FILE_NAME = 'settings.json';
/** The settings of the last start that worked (its models are what a failed start falls back on). */
export const LAST_WORKING_FILE_NAME = 'last-working-settings.json';

/** What loading found: the settings to use, and a warning in words when the file was unusable. */
export interface LoadedSettings {
  settings: EngineSettings;
  warning?: string;
}

/**
 * An engine settings file (`<data dir>/settings.json`, or the last working settings). Reading never throws: a missing file is
 * the defaults, a corrupt one is the defaults plus a warning (and is kept aside as `.corrupt` so
 * nothing the user wrote is lost). Writes are atomic (temporary file + rename) and serialized.
 */
export class SettingsFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string, fileName: string = SETTINGS_FILE_NAME) {
    this.path = join(dataDir, fileName);
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
      const json: unknown = JSON.parse(text);
      const parsed = EngineSettingsSchema.safeParse(json);
      if (parsed.success) return { settings: parsed.data };
      const withoutModels = this.withoutBadModelChoices(json, parsed.error.issues);
      if (withoutModels) return withoutModels;
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

  /**
   * A file whose only problems are model choices that are neither a file nor a model id (hand-edited,
   * or written before ids were checked) keeps everything else: those choices are left out, with a warning.
   */
  private withoutBadModelChoices(json: unknown, issues: readonly z.core.$ZodIssue[]): LoadedSettings | null {
    const bad = issues.map((issue) => (issue.path.length === 2 && issue.path[0] === 'models' ? issue.path[1] : undefined));
    if (bad.includes(undefined) || typeof json !== 'object' || json === null) return null;
    const record = json as { models?: Record<string, unknown> };
    const models = Object.fromEntries(Object.entries(record.models ?? {}).filter(([setting]) => !bad.includes(setting)));
    const parsed = EngineSettingsSchema.safeParse({ ...record, models });
    if (!parsed.success) return null;
    const names = bad.map((setting) => `"${String(setting)}"`).join(', ');
    return { settings: parsed.data, warning: `The model settings ${names} in ${this.path} are neither a model file nor a model id; they are left out.` };
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
        throw new AppError(ErrorCode.Internal, `The settings could not be saved to ${this.path}: ${describeWriteError(error)}.`, true, { cause: error });
      }
    };
    const result = this.writing.then(run);
    this.writing = result.catch(() => undefined);
    return result;
  }
}
