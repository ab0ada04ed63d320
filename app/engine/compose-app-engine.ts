import type { EngineSettings, VadSettings } from '../shared/settings.contract';
import { openModelManager, type ModelManager } from './models/model-manager';
import { createModelService, type ModelService } from './models/model-service';
import { applyEngineSettings, modelPathsFromSettings } from './settings/engine-settings-config';
import { checkModelChoice, type ModelSetting } from './settings/model-choice-check';
import { LAST_WORKING_FILE_NAME, SettingsFile } from './settings/settings-file';
import { createSettingsService } from './settings/settings-service';
import { startFallback } from './settings/start-fallback';
import { engineWithServices } from './engine-with-services';
import { createEngine, type EngineInstance } from './create-engine';
import type { Engine, EngineConnection } from './engine-api';
import type { EngineConfig } from './engine-config';
import { resolveProfile, type ProfileName } from './model-profile';
import { RelayConnection } from './relay-connection';
import { createVmcService, type VmcService } from './vmc/vmc-service';
import { ConversationJournal } from './conversation/conversation-journal';

/** What a host (`serve`, Electron main) asks for; everything else comes from the settings file. */
export interface AppEngineRequest {
  profile: ProfileName;
  /** The data folder holding `settings.json` and the kept conversations. */
  dataDir: string;
  /** Model files given on the command line: they win over the settings. */
  llmModelPath?: string | undefined;
  sttModelPath?: string | undefined;
  voiceModelPath?: string | undefined;
  /** Models folder of the model manager; the platform's default when absent. */
  modelsDir?: string | undefined;
  /** Base config to adjust (Electron injects its utilityProcess launcher). */
  base?: EngineConfig;
  /** `--vmc-out host:port`: VMC output on, to this target, for this run (until the user changes the VMC setting). */
  vmcOut?: { host: string; port: number } | undefined;
  /**
   * Other engines use the same data folder (scale-out behind a load balancer): sessions name their
   * conversation, and each journal is written by one engine at a time (a lease per conversation).
   */
  sharedDataDir?: boolean | undefined;
  /** Says what a failed start set aside (default: console.warn); the page hears it in `settings.current`. */
  onWarning?: (warning: string) => void;
}

/** The composed engine and what the host prints. */
export interface AppEngine {
  /** Engine + settings service + model service: what clients connect to (it survives a fallback restart). */
  readonly engine: Engine;
  /** The bare engine running now (tests read sessions, pool and the final config through it). */
  readonly instance: EngineInstance;
  readonly config: EngineConfig;
  readonly settingsFile: SettingsFile;
  /** The kept conversations (`<data dir>/conversations`). */
  readonly conversations: ConversationJournal;
  /** One line per kind: what runs and from where. */
  readonly summary: string[];
  /** VMC protocol output (one for the app's life: it survives a fallback restart). */
  readonly vmc: VmcService;
  /** Settings that could not be used (a corrupt file, a missing model choice, a model set aside), in words; the app still starts. */
  readonly warnings: string[];
}

/** One engine built from one set of settings: what a start (or a fallback restart) runs. */
interface Composed {
  settings: EngineSettings;
  instance: EngineInstance;
  engine: Engine;
  config: EngineConfig;
  summary: string[];
  /** Model settings whose choice this engine runs (a command-line model wins over its setting). */
  usedSettings: Set<ModelSetting>;
  /** What its settings could not give, in words. */
  notices: string[];
}

/**
 * The one composition both hosts use: settings file → model choices → profile → engine config
 * with the settings → engine → settings service → model service. Throws an Error in words only
 * when the profile itself cannot be met (a required model missing); bad settings are warnings.
 *
 * A start that fails on a model chosen in the settings does not leave a dead engine: the choice is
 * set aside (the settings file then holds the last model that worked, or none: the profile's
 * default), the user is told in words, and a new engine starts; connected clients move to it with
 * their sessions. A start that fails otherwise leaves the engine degraded (`health()`), saying why.
 */
export async function composeAppEngine(request: AppEngineRequest): Promise<AppEngine> {
  const onWarning = request.onWarning ?? ((warning: string) => console.warn(warning));
  const settingsFile = new SettingsFile(request.dataDir);
  const lastWorkingFile = new SettingsFile(request.dataDir, LAST_WORKING_FILE_NAME);
  const loaded = await settingsFile.load();
  // One journal for every engine this composition starts: a fallback restart continues the same conversation.
  const conversations = await ConversationJournal.open(request.dataDir, loaded.settings.conversations, onWarning, { shared: request.sharedDataDir ?? false });

  let manager: Promise<ModelManager> | undefined;
  const models = (): Promise<ModelManager> => (manager ??= openModelManager(request.modelsDir ? { dir: request.modelsDir } : {}));
  // VAD sensitivity is live: every mic frame carries the current values, the VAD applies them from the next utterance.
  let vad: VadSettings = {};
  let current: Composed | undefined;
  const vmcService = createVmcService({ settings: loaded.settings.vmc, flagTarget: request.vmcOut });
  const modelService: ModelService = createModelService(await models(), () =>
    Object.values(current?.config.workers ?? {}).flatMap((worker) => (worker.modelPath ? [worker.modelPath] : [])),
  );

  /** Builds the engine for `settings`; its notices (`leading` first) reach the page with the settings. */
  async function compose(settings: EngineSettings, leading: string[]): Promise<Composed> {
    const chosen = await modelPathsFromSettings(settings.models, async (id) => (await models()).resolve(id));
    const notices = [...leading, ...chosen.warnings];
    const resolved = await resolveProfile({
      profile: request.profile,
      llmModelPath: request.llmModelPath ?? chosen.paths.llmModelPath,
      sttModelPath: request.sttModelPath ?? chosen.paths.sttModelPath,
      voiceModelPath: request.voiceModelPath ?? chosen.paths.voiceModelPath,
      ...(request.modelsDir ? { modelsDir: request.modelsDir } : {}),
      ...(request.base ? { base: request.base } : {}),
    });
    notices.push(...resolved.warnings);
    const usedSettings = new Set<ModelSetting>();
    if (request.profile !== 'scripted') {
      if (chosen.paths.llmModelPath && !request.llmModelPath) usedSettings.add('llm');
      if (chosen.paths.sttModelPath && !request.sttModelPath) usedSettings.add('stt');
      if (chosen.paths.voiceModelPath && !request.voiceModelPath) usedSettings.add('voice');
    }

    vad = settings.vad;
    const config: EngineConfig = { ...applyEngineSettings(resolved.config, settings), vadSensitivity: () => vad };
    // Sessions open only after composition, so the hook can refer to the service created below.
    const instance = createEngine(config, {
      openingSession: (opening) => settingsService.sessionDefaults(opening),
      sessionClosed: (sessionId) => settingsService.sessionClosed(sessionId),
      conversations,
    });
    const settingsService = createSettingsService(instance, {
      file: settingsFile,
      startedWith: { settings, ...(notices.length > 0 ? { warning: notices.join(' ') } : {}) },
      defaultPersona: resolved.config.defaultPersona,
      onVadChange: (next) => {
        vad = next;
      },
      onVmcChange: (next) => vmcService.settingsChanged(next),
      onConversationsChange: (retention) => {
        conversations.setRetention(retention).catch((error: unknown) => onWarning(`Saved conversations could not be pruned: ${(error as Error).message}`));
      },
      checkModelChoice: (setting, choice) => checkModelChoice(setting, choice, models),
    });
    const engine = engineWithServices(instance, { settings: settingsService, models: modelService, vmc: vmcService });
    return { settings, instance, engine, config, summary: resolved.summary, usedSettings, notices };
  }

  /** The models that started, for the next failed start to fall back on. */
  async function rememberWorking(composed: Composed): Promise<void> {
    const models = Object.fromEntries([...composed.usedSettings].map((setting) => [setting, composed.settings.models[setting]]));
    await lastWorkingFile.save({ ...composed.settings, models }).catch((error: unknown) => onWarning(`The last working settings could not be kept: ${(error as Error).message}`));
  }

  current = await compose(loaded.settings, loaded.warning ? [loaded.warning] : []);
  const warnings = [...current.notices];
  const relays = new Set<RelayConnection>();

  const engine: Engine = {
    connect(send): EngineConnection {
      const relay = new RelayConnection(current!.engine, send);
      relays.add(relay);
      return {
        handle: (message) => relay.handle(message),
        get openSessions() {
          return relay.openSessions;
        },
        close: () => {
          relays.delete(relay);
          relay.close();
        },
      };
    },
    health: () => current!.instance.health(),
    async start() {
      // Each round sets aside failed model settings (a choice → the last working one → the default), so it ends.
      for (;;) {
        const running = current!;
        try {
          await running.instance.start();
          await rememberWorking(running);
          return;
        } catch (error) {
          const health = running.instance.health();
          const fallback =
            health.state === 'degraded'
              ? startFallback({
                  settings: running.settings,
                  saved: (await settingsFile.load()).settings,
                  reason: health.reason,
                  failedKinds: health.failedKinds,
                  usedSettings: running.usedSettings,
                  lastWorking: (await lastWorkingFile.load()).settings.models,
                })
              : null;
          if (!fallback) throw error;
          const notices = [fallback.warning];
          await settingsFile.save(fallback.settings).catch((saveError: unknown) => notices.push((saveError as Error).message));
          current = await compose(fallback.settings, notices);
          for (const notice of current.notices) onWarning(notice);
          warnings.push(...current.notices);
          for (const relay of relays) relay.rebind(current.engine);
          await running.instance.shutdown();
        }
      }
    },
    async shutdown() {
      vmcService.close();
      await current!.engine.shutdown();
      // Shared data folder: other engines may continue these conversations at once, not after the leases go stale.
      await conversations.releaseAll();
    },
  };

  return {
    engine,
    get instance() {
      return current!.instance;
    },
    get config() {
      return current!.config;
    },
    settingsFile,
    vmc: vmcService,
    conversations,
    get summary() {
      return current!.summary;
    },
    warnings,
  };
}
