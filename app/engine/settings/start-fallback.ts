import type { EngineSettings, ModelChoices } from '../../shared/settings.contract';
import type { WorkerKind } from '../../shared/worker.contract';
import { MODEL_SETTINGS, type ModelSetting } from './model-choice-check';

/** The settings to start with after a failed start, and what was set aside, in words. */
export interface StartFallback {
  settings: EngineSettings;
  warning: string;
}

export interface FailedStart {
  /** The settings the failed start used. */
  settings: EngineSettings;
  /** The settings as saved now (the user may have changed some while it loaded): the fallback changes only the failed choices. */
  saved: EngineSettings;
  /** Why it failed, in words. */
  reason: string;
  /** Worker kinds whose models did not load. */
  failedKinds: readonly WorkerKind[];
  /** Model settings whose choice the start actually used (a command-line model wins over its setting). */
  usedSettings: ReadonlySet<ModelSetting>;
  /** The model choices of the last start that worked; undefined when none is known. */
  lastWorking: ModelChoices | undefined;
}

/**
 * After a start failed on models chosen in the settings: each failed choice is replaced by the one
 * the last working start used, or removed (the profile's default) when that was the same choice or
 * none is known. Null when no failed model came from the settings: there is nothing to set aside.
 */
export function startFallback(failed: FailedStart): StartFallback | null {
  const models: ModelChoices = { ...failed.saved.models };
  const sentences: string[] = [];
  for (const { setting, kind, words } of MODEL_SETTINGS) {
    const choice = failed.settings.models[setting];
    if (choice === undefined || !failed.usedSettings.has(setting) || !failed.failedKinds.includes(kind)) continue;
    const previous = failed.lastWorking?.[setting];
    const usable = previous !== undefined && previous !== choice ? previous : undefined;
    if (usable !== undefined) models[setting] = usable;
    else delete models[setting];
    sentences.push(
      `The ${words} "${choice}" in the settings could not be loaded (${failed.reason}); it was set aside and the app uses ` +
        (usable !== undefined ? `the last one that worked ("${usable}").` : 'its default instead.'),
    );
  }
  if (sentences.length === 0) return null;
  return { settings: { ...failed.saved, models }, warning: sentences.join(' ') };
}
