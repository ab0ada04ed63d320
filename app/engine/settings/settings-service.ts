import { AppError } from '../../shared/errors.contract';
import { REPLY_OF, type ServerMessage } from '../../shared/messages.contract';
import { RestartSettingSchema, type ConversationRetention, type EngineSettings, type RestartSetting, type VadSettings } from '../../shared/settings.contract';
import type { VmcSettings } from '../../shared/vmc.contract';
import type { EngineInstance } from '../create-engine';
import type { ConnectionPart, SettingsMessageType } from '../dispatch';
import { MODEL_SETTINGS, type ModelSetting } from './model-choice-check';
import type { LoadedSettings, SettingsFile } from './settings-file';

/** The settings group of the dispatch table, plus the defaults new sessions take from the settings. */
export interface SettingsService {
  connect(send: (message: ServerMessage) => void): ConnectionPart<SettingsMessageType>;
  /** For EngineHooks.openingSession: persona and voice from the settings where the request brings none. */
  sessionDefaults(request: { persona?: string | undefined; voice?: string | undefined }): { persona?: string; voice?: string; opened?(sessionId: string): void };
  /** For EngineHooks.sessionClosed: a closed session no longer follows the persona. */
  sessionClosed(sessionId: string): void;
  /** Open sessions that follow the persona setting (what the service still holds per session). */
  readonly followerCount: number;
}

/** Flat groups compared by value, independent of key order. */
function sameGroup(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

export interface SettingsServiceOptions {
  file: SettingsFile;
  /** The settings the engine was configured with at start (restart-only groups are compared to these). */
  startedWith: LoadedSettings;
  /** The profile's persona, used when the persona setting is cleared. */
  defaultPersona: string;
  /** Takes new VAD sensitivity while running (the engine's `vadSensitivity`); without it VAD changes wait for a restart. */
  onVadChange?: (vad: VadSettings) => void;
  /** Takes a new VMC output setting at once (saved settings; absent: off). */
  onVmcChange?: (vmc: VmcSettings | undefined) => void;
  /** Applies a changed conversation retention (prunes or deletes kept conversations) once it is saved. */
  onConversationsChange?: (retention: ConversationRetention | undefined) => void;
  /** Checks a changed model choice before anything is saved; rejects with an AppError in words. */
  checkModelChoice?: (setting: ModelSetting, choice: string) => Promise<void>;
}

/**
 * Puts the engine settings behind client messages: `settings.get` and `settings.set` (saved
 * atomically) answer with `settings.current`, broadcast to every client. What can change live does:
 * the persona becomes the system prompt of the next turn in every session that did not bring its
 * own, new sessions get the persona and voice, and VAD sensitivity (with `onVadChange`) reaches the
 * next utterance, and a new conversation retention is applied at once. Pool sizes and models are
 * load options of the warm workers: they are saved (a model only once its file checks out) and
 * reported as needing a restart. VMC output (with `onVmcChange`) follows its setting at once.
 */
export function createSettingsService(engine: Pick<EngineInstance, 'session'>, options: SettingsServiceOptions): SettingsService {
  const { file, startedWith, defaultPersona, onVadChange, onVmcChange, onConversationsChange, checkModelChoice } = options;
  let current: EngineSettings = startedWith.settings;
  let warning = startedWith.warning;
  const clients = new Set<(message: ServerMessage) => void>();
  /** Sessions whose system prompt follows the persona setting. */
  const followers = new Set<string>();

  const restartRequired = (): RestartSetting[] =>
    RestartSettingSchema.options.filter((group) => !(group === 'vad' && onVadChange) && !sameGroup(current[group], startedWith.settings[group]));

  const snapshot = (): ServerMessage => ({
    type: REPLY_OF['settings.get'],
    settings: current,
    restartRequired: restartRequired(),
    file: file.path,
    ...(warning !== undefined ? { warning } : {}),
  });

  function applyPersona(): void {
    for (const sessionId of [...followers]) {
      const session = engine.session(sessionId);
      if (session) session.setPersona(current.persona ?? defaultPersona);
      else followers.delete(sessionId);
    }
  }

  async function set(settings: EngineSettings, send: (message: ServerMessage) => void): Promise<void> {
    try {
      // A model that cannot load would break the next start: it is refused before anything is saved.
      for (const { setting } of MODEL_SETTINGS) {
        const choice = settings.models[setting];
        if (choice !== undefined && choice !== current.models[setting]) await checkModelChoice?.(setting, choice);
      }
      await file.save(settings);
    } catch (error) {
      const appError = AppError.from(error);
      send({ type: 'error', code: appError.code, message: appError.message, recoverable: appError.recoverable });
      return;
    }
    const personaChanged = settings.persona !== current.persona;
    const retentionChanged = JSON.stringify(settings.conversations) !== JSON.stringify(current.conversations);
    current = settings;
    warning = undefined;
    if (personaChanged) applyPersona();
    if (retentionChanged) onConversationsChange?.(current.conversations);
    onVadChange?.(current.vad);
    onVmcChange?.(current.vmc);
    const message = snapshot();
    for (const client of clients) client(message);
  }

  return {
    connect(send) {
      clients.add(send);
      return {
        handlers: {
          'settings.get': () => send(snapshot()),
          'settings.set': (message) => void set(message.settings, send),
        },
        close() {
          clients.delete(send);
        },
      };
    },
    sessionDefaults(request) {
      return {
        ...(request.persona === undefined && current.persona !== undefined ? { persona: current.persona } : {}),
        ...(request.voice === undefined && current.voice !== undefined ? { voice: current.voice } : {}),
        // A session that brought no persona follows the setting when it changes.
        ...(request.persona === undefined ? { opened: (sessionId: string) => void followers.add(sessionId) } : {}),
      };
    },
    sessionClosed(sessionId) {
      followers.delete(sessionId);
    },
    get followerCount() {
      return followers.size;
    },
  };
}
