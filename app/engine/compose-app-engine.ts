import type { VadSettings } from '../shared/settings.contract';
import { openModelManager, type ModelManager } from './models/model-manager';
import { createModelService } from './models/model-service';
import { applyEngineSettings, modelPathsFromSettings } from './settings/engine-settings-config';
import { checkModelChoice } from './settings/model-choice-check';
import { SettingsFile } from './settings/settings-file';
import { createSettingsService } from './settings/settings-service';
import { engineWithServices } from './engine-with-services';
import { createEngine, type EngineInstance } from './create-engine';
import type { Engine } from './engine-api';
import type { EngineConfig } from './engine-config';
import { resolveProfile, type ProfileName } from './model-profile';

/** What a host (`serve`, Electron main) asks for; everything else comes from the settings file. */
export interface AppEngineRequest {
  profile: ProfileName;
  /** The data folder holding `settings.json`. */
  dataDir: string;
  /** Model files given on the command line: they win over the settings. */
  llmModelPath?: string | undefined;
  sttModelPath?: string | undefined;
  voiceModelPath?: string | undefined;
  /** Models folder of the model manager; the platform's default when absent. */
  modelsDir?: string | undefined;
  /** Base config to adjust (Electron injects its utilityProcess launcher). */
  base?: EngineConfig;
}

/** The composed engine and what the host prints. */
export interface AppEngine {
  /** Engine + settings service + model service: what clients connect to. */
  engine: Engine;
  /** The bare engine underneath (tests read sessions, pool and the final config through it). */
  instance: EngineInstance;
  config: EngineConfig;
  settingsFile: SettingsFile;
  /** One line per kind: what runs and from where. */
  summary: string[];
  /** Settings that could not be used (a corrupt file, a missing model choice), in words; the app still starts. */
  warnings: string[];
}

/**
 * The one composition both hosts use: settings file → model choices → profile → engine config
 * with the settings → engine → settings service → model service. Throws an Error in words only
 * when the profile itself cannot be met (a required model missing); bad settings are warnings.
 */
export async function composeAppEngine(request: AppEngineRequest): Promise<AppEngine> {
  const warnings: string[] = [];
  const settingsFile = new SettingsFile(request.dataDir);
  const loaded = await settingsFile.load();
  if (loaded.warning) warnings.push(loaded.warning);

  let manager: Promise<ModelManager> | undefined;
  const models = (): Promise<ModelManager> => (manager ??= openModelManager(request.modelsDir ? { dir: request.modelsDir } : {}));
  const chosen = await modelPathsFromSettings(loaded.settings.models, async (id) => (await models()).resolve(id));
  warnings.push(...chosen.warnings);

  const resolved = await resolveProfile({
    profile: request.profile,
    llmModelPath: request.llmModelPath ?? chosen.paths.llmModelPath,
    sttModelPath: request.sttModelPath ?? chosen.paths.sttModelPath,
    voiceModelPath: request.voiceModelPath ?? chosen.paths.voiceModelPath,
    ...(request.modelsDir ? { modelsDir: request.modelsDir } : {}),
    ...(request.base ? { base: request.base } : {}),
  });
  warnings.push(...resolved.warnings);

  // VAD sensitivity is live: every mic frame carries the current values, the VAD applies them from the next utterance.
  let vad: VadSettings = loaded.settings.vad;
  const config: EngineConfig = { ...applyEngineSettings(resolved.config, loaded.settings), vadSensitivity: () => vad };
  // Sessions open only after composition, so the hook can refer to the service created below.
  const instance = createEngine(config, { openingSession: (request) => settingsService.sessionDefaults(request) });
  const settingsService = createSettingsService(instance, {
    file: settingsFile,
    startedWith: loaded,
    defaultPersona: resolved.config.defaultPersona,
    onVadChange: (next) => {
      vad = next;
    },
    checkModelChoice: (setting, choice) => checkModelChoice(setting, choice, models),
  });
  const modelService = createModelService(await models(), () =>
    Object.values(config.workers).flatMap((worker) => (worker.modelPath ? [worker.modelPath] : [])),
  );
  const engine = engineWithServices(instance, { settings: settingsService, models: modelService });
  return { engine, instance, config, settingsFile, summary: resolved.summary, warnings };
}
