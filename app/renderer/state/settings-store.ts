import type { ServerMessage } from '../../shared/messages.contract';
import { isReplyTo } from '../../shared/messages.contract';
import {
  defaultRendererSettings,
  RendererSettingsSchema,
  type BackgroundMode,
  type EngineSettings,
  type RendererSettings,
} from '../../shared/settings.contract';
import type { EngineClient } from '../transport/engine-client';

/** localStorage key of the renderer-only settings (JSON, RendererSettingsSchema). */
export const RENDERER_SETTINGS_KEY = 'avatar.settings';
/** localStorage key and window event the avatar view reads its background mode from. */
export const BACKGROUND_KEY = 'avatar.background';
export const BACKGROUND_EVENT = 'avatar-background';

/** What the engine last said about its settings (`settings.current`). */
export type EngineSettingsState = Omit<Extract<ServerMessage, { type: 'settings.current' }>, 'type'>;

export interface SettingsSnapshot {
  renderer: RendererSettings;
  /** Null until the engine has answered `settings.get`. */
  engine: EngineSettingsState | null;
  /** A stored renderer setting could not be read (it was replaced by the defaults). */
  warning: string | null;
}

/** Minimal Storage (window.localStorage; tests pass a Map-backed one). */
export type SettingsStorage = Pick<Storage, 'getItem' | 'setItem'>;

function loadRenderer(storage: SettingsStorage | null): { renderer: RendererSettings; warning: string | null } {
  let text: string | null = null;
  try {
    text = storage?.getItem(RENDERER_SETTINGS_KEY) ?? null;
  } catch {
    // Storage can be disabled (privacy settings): the defaults it is.
  }
  if (text === null) return { renderer: defaultRendererSettings, warning: null };
  try {
    const parsed = RendererSettingsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { renderer: parsed.data, warning: null };
  } catch {
    // Not JSON: handled below like a schema mismatch.
  }
  return { renderer: defaultRendererSettings, warning: 'The saved display and microphone settings were unreadable; the defaults are in use.' };
}

/**
 * The page's settings: renderer-only ones persisted in localStorage (validated on load, defaults on
 * anything unreadable), and the engine's as it reports them. Immutable snapshots for React. The
 * background mode is also published as `avatar.background` plus a window `avatar-background`
 * event (detail: the mode) and as `data-background` on <html>, for the avatar view and page CSS.
 */
export class SettingsStore {
  private state: SettingsSnapshot;
  private readonly listeners = new Set<() => void>();
  private client: EngineClient | null = null;

  constructor(private readonly storage: SettingsStorage | null = globalThis.localStorage ?? null) {
    const { renderer, warning } = loadRenderer(storage);
    this.state = { renderer, engine: null, warning };
    this.publishBackground(renderer.background);
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): SettingsSnapshot => this.state;

  /** Changes renderer settings; saved at once. */
  updateRenderer(patch: Partial<RendererSettings>): void {
    const renderer = RendererSettingsSchema.parse({ ...this.state.renderer, ...patch });
    try {
      this.storage?.setItem(RENDERER_SETTINGS_KEY, JSON.stringify(renderer));
    } catch {
      // Full or disabled storage: the setting still applies to this page.
    }
    if (renderer.background !== this.state.renderer.background) this.publishBackground(renderer.background);
    this.set({ renderer, warning: null });
  }

  /** Follows the engine's `settings.current` and asks for it on every (re)connection. */
  attach(client: EngineClient): () => void {
    this.client = client;
    const ask = (): void => client.send({ type: 'settings.get' });
    const offStatus = client.onStatus((status) => {
      if (status === 'open') ask();
    });
    const offMessage = client.onMessage((message) => {
      if (!isReplyTo('settings.get', message)) return;
      const { type: _type, ...engine } = message;
      this.set({ engine });
    });
    if (client.status === 'open') ask();
    return () => {
      offStatus();
      offMessage();
    };
  }

  /** Sends the engine settings to be saved; the reply (`settings.current`) updates the snapshot. */
  saveEngine(settings: EngineSettings): boolean {
    if (!this.client || this.client.status !== 'open') return false;
    this.client.send({ type: 'settings.set', settings });
    return true;
  }

  private publishBackground(mode: BackgroundMode): void {
    if (typeof document !== 'undefined') document.documentElement.dataset.background = mode;
    try {
      this.storage?.setItem(BACKGROUND_KEY, mode);
    } catch {
      // See updateRenderer.
    }
    if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent<BackgroundMode>(BACKGROUND_EVENT, { detail: mode }));
  }

  private set(patch: Partial<SettingsSnapshot>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
