import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { isModelPath, type EngineSettings, type ModelChoices } from '../../shared/settings.contract';
import type { WorkerKind } from '../../shared/worker.contract';
import type { EngineConfig } from '../engine-config';

/** Model files chosen in the settings, as `resolveProfile` takes them. */
export interface SettingsModelPaths {
  llmModelPath?: string;
  sttModelPath?: string;
  voiceModelPath?: string;
}

const MODEL_KINDS = [
  ['llm', 'llmModelPath', 'language model'],
  ['stt', 'sttModelPath', 'speech-to-text model'],
  ['voice', 'voiceModelPath', 'voice'],
] as const;

/**
 * Turns the model choices (a file path or a catalog id) into files. A choice that cannot be used
 * is skipped with a warning in words, so a stale setting never keeps the app from starting.
 */
export async function modelPathsFromSettings(
  models: ModelChoices,
  resolveCatalogId: (id: string) => Promise<string>,
): Promise<{ paths: SettingsModelPaths; warnings: string[] }> {
  const paths: SettingsModelPaths = {};
  const warnings: string[] = [];
  for (const [kind, field, what] of MODEL_KINDS) {
    const choice = models[kind];
    if (choice === undefined) continue;
    if (isAbsolute(choice) || isModelPath(choice)) {
      if (existsSync(choice)) paths[field] = choice;
      else warnings.push(`The ${what} file in the settings does not exist (${choice}); the default is used.`);
      continue;
    }
    try {
      paths[field] = await resolveCatalogId(choice);
    } catch (error) {
      warnings.push(`The ${what} "${choice}" in the settings cannot be used (${(error as Error).message}); the default is used.`);
    }
  }
  return { paths, warnings };
}

/**
 * The engine config with the settings that act at start: pool sizes and persona. VAD sensitivity is
 * not a load option: it travels with every mic frame (`EngineConfig.vadSensitivity`), so it stays live.
 */
export function applyEngineSettings(config: EngineConfig, settings: EngineSettings): EngineConfig {
  const workers = { ...config.workers };
  for (const kind of ['llm', 'stt', 'tts'] as const satisfies readonly WorkerKind[]) {
    const count = settings.poolSizes[kind];
    if (count !== undefined) workers[kind] = { ...workers[kind], count };
  }
  return { ...config, workers, ...(settings.persona !== undefined ? { defaultPersona: settings.persona } : {}) };
}
