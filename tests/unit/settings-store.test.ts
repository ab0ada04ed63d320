import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import { ClientMessageSchema, ServerMessageSchema } from '../../app/shared/messages.contract';
import { defaultRendererSettings, EngineSettingsSchema } from '../../app/shared/settings.contract';
import { BACKGROUND_KEY, RENDERER_SETTINGS_KEY, SettingsStore, type SettingsStorage } from '../../app/renderer/state/settings-store';
import type { ConnectionStatus, EngineClient } from '../../app/renderer/transport/engine-client';

function memoryStorage(initial: Record<string, string> = {}): SettingsStorage & { items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

/** An engine client whose traffic the test drives by hand. */
function manualClient(): EngineClient & { sent: ClientMessage[]; deliver(message: ServerMessage): void; setStatus(status: ConnectionStatus): void } {
  const messageListeners = new Set<(message: ServerMessage) => void>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  const client = {
    kind: 'websocket' as const,
    status: 'connecting' as ConnectionStatus,
    sent: [] as ClientMessage[],
    send: (message: ClientMessage) => void client.sent.push(message),
    onMessage: (listener: (message: ServerMessage) => void) => (messageListeners.add(listener), () => void messageListeners.delete(listener)),
    onStatus: (listener: (status: ConnectionStatus) => void) => (statusListeners.add(listener), () => void statusListeners.delete(listener)),
    close: () => undefined,
    deliver: (message: ServerMessage) => messageListeners.forEach((listener) => listener(message)),
    setStatus: (status: ConnectionStatus) => {
      client.status = status;
      statusListeners.forEach((listener) => listener(status));
    },
  };
  return client;
}

describe('settings contract', () => {
  it('accepts partial engine settings (absent = default) and rejects out-of-range values', () => {
    expect(EngineSettingsSchema.parse({})).toEqual({ vad: {}, poolSizes: {}, models: {} });
    expect(EngineSettingsSchema.safeParse({ vad: { threshold: 0 } }).success).toBe(false);
    expect(EngineSettingsSchema.safeParse({ vad: { minSilenceMs: 20 } }).success).toBe(false);
    expect(EngineSettingsSchema.safeParse({ poolSizes: { tts: 1.5 } }).success).toBe(false);
    expect(EngineSettingsSchema.safeParse({ persona: '   ' }).success).toBe(false);
    expect(EngineSettingsSchema.safeParse({ persona: 'x'.repeat(8001) }).success).toBe(false);
  });

  it('carries settings messages through both message unions', () => {
    expect(ClientMessageSchema.safeParse({ type: 'settings.set', settings: { persona: 'Hi' } }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'settings.set', settings: { poolSizes: { llm: 0 } } }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'settings.get' }).success).toBe(true);
    const current = { type: 'settings.current', settings: { vad: {}, poolSizes: {}, models: {} }, restartRequired: ['vad'], file: '/d/settings.json' };
    expect(ServerMessageSchema.safeParse(current).success).toBe(true);
    expect(ServerMessageSchema.safeParse({ ...current, restartRequired: ['persona'] }).success).toBe(false);
  });
});

describe('renderer settings store', () => {
  it('starts from the defaults and persists changes that a new store (a reload) reads back', () => {
    const storage = memoryStorage();
    const store = new SettingsStore(storage);
    expect(store.getSnapshot().renderer).toEqual(defaultRendererSettings);
    let notified = 0;
    store.subscribe(() => notified++);
    store.updateRenderer({ background: 'chroma', micMode: 'push-to-talk', micDeviceId: 'usb-mic', cameraDeviceId: 'usb-cam', greetOnArrival: false });
    expect(notified).toBe(1);
    expect(storage.items.get(BACKGROUND_KEY)).toBe('chroma');
    const reloaded = new SettingsStore(storage);
    expect(reloaded.getSnapshot().renderer).toEqual({
      background: 'chroma',
      micMode: 'push-to-talk',
      micDeviceId: 'usb-mic',
      avatar: null,
      cameraDeviceId: 'usb-cam',
      greetOnArrival: false,
    });
    expect(reloaded.getSnapshot().warning).toBeNull();
  });

  it('falls back to the defaults with a warning when the stored value is unreadable, and rejects invalid changes', () => {
    const garbled = new SettingsStore(memoryStorage({ [RENDERER_SETTINGS_KEY]: '{not json' }));
    expect(garbled.getSnapshot().renderer).toEqual(defaultRendererSettings);
    expect(garbled.getSnapshot().warning).toMatch(/unreadable/);
    const wrong = new SettingsStore(memoryStorage({ [RENDERER_SETTINGS_KEY]: JSON.stringify({ background: 'purple' }) }));
    expect(wrong.getSnapshot().renderer.background).toBe('normal');
    expect(() => wrong.updateRenderer({ background: 'purple' as 'normal' })).toThrow();
    expect(new SettingsStore(null).getSnapshot().renderer).toEqual(defaultRendererSettings);
  });

  it('asks the engine for its settings on every connection, follows settings.current, and sends settings.set', () => {
    const client = manualClient();
    const store = new SettingsStore(memoryStorage());
    store.attach(client);
    expect(store.saveEngine({ vad: {}, poolSizes: {}, models: {} })).toBe(false);
    client.setStatus('open');
    expect(client.sent).toEqual([{ type: 'settings.get' }]);
    client.deliver({ type: 'settings.current', settings: { persona: 'Calm', vad: {}, poolSizes: {}, models: {} }, restartRequired: [], file: '/d/settings.json' });
    expect(store.getSnapshot().engine?.settings.persona).toBe('Calm');
    expect(store.saveEngine({ persona: 'Bold', vad: {}, poolSizes: {}, models: {} })).toBe(true);
    expect(client.sent.at(-1)).toEqual({ type: 'settings.set', settings: { persona: 'Bold', vad: {}, poolSizes: {}, models: {} } });
    client.setStatus('closed');
    client.setStatus('open');
    expect(client.sent.at(-1)).toEqual({ type: 'settings.get' });
  });
});
