import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import type { EngineSettings } from '../../app/shared/settings.contract';
import type { Engine, EngineConnection } from '../../app/engine/engine-api';
import { createEngine, type EngineInstance } from '../../app/engine/create-engine';
import { SettingsFile } from '../../app/engine/settings/settings-file';
import { createSettingsService, type SettingsService } from '../../app/engine/settings/settings-service';
import { engineWithServices } from '../../app/engine/engine-with-services';
import { scriptedConfig } from './engine-harness';

/** Settings through the real engine (scripted workers in a real host process). */

const DEFAULT_PERSONA = 'You are the default persona.';
type SettingsCurrent = Extract<ServerMessage, { type: 'settings.current' }>;

class Client {
  readonly messages: ServerMessage[] = [];
  readonly connection: EngineConnection;
  private next = 1;
  constructor(engine: Engine) {
    this.connection = engine.connect((message) => this.messages.push(message));
  }
  send(message: ClientMessage): void {
    this.connection.handle(message);
  }
  async waitFor<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, from = 0): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out; got ${this.messages.map((m) => m.type).join(', ')}`);
  }
  async open(persona?: string): Promise<string> {
    const requestId = `r${this.next++}`;
    this.send({ type: 'session.open', requestId, ...(persona ? { persona } : {}) });
    return (await this.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened' && m.requestId === requestId)).sessionId;
  }
  async set(settings: EngineSettings): Promise<SettingsCurrent> {
    const from = this.messages.length;
    this.send({ type: 'settings.set', settings });
    return this.waitFor((m): m is SettingsCurrent => m.type === 'settings.current', from);
  }
}

let engine: EngineInstance;
let settings: SettingsService;
let service: Engine;
let dir = '';
let file: SettingsFile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'avatar-settings-service-'));
  file = new SettingsFile(dir);
  engine = createEngine(scriptedConfig({}, { defaultPersona: DEFAULT_PERSONA }), {
    openingSession: (request) => settings.sessionDefaults(request),
    sessionClosed: (sessionId) => settings.sessionClosed(sessionId),
  });
  await engine.start();
  settings = createSettingsService(engine, { file, startedWith: { settings: { vad: {}, poolSizes: {}, models: {} } }, defaultPersona: DEFAULT_PERSONA });
  service = engineWithServices(engine, { settings });
});

afterAll(async () => {
  await engine?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('settings service', () => {
  it('answers settings.get with the settings, the file and nothing pending', async () => {
    const client = new Client(service);
    client.send({ type: 'settings.get' });
    const current = await client.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(current).toEqual({ type: 'settings.current', settings: { vad: {}, poolSizes: {}, models: {} }, restartRequired: [], file: join(dir, 'settings.json') });
    client.connection.close();
  });

  it('applies a new persona to the next turn of open sessions, saves it, and tells every client', async () => {
    const alice = new Client(service);
    const bob = new Client(service);
    const following = await alice.open();
    const ownPersona = await alice.open('I bring my own persona.');
    expect(engine.session(following)!.history[0]).toEqual({ role: 'system', content: DEFAULT_PERSONA });

    const current = await alice.set({ persona: 'You are a pirate.', voice: 'en-gb', vad: {}, poolSizes: {}, models: {} });
    expect(current.settings.persona).toBe('You are a pirate.');
    expect(current.restartRequired).toEqual([]);
    await bob.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'))).toMatchObject({ persona: 'You are a pirate.', voice: 'en-gb' });

    // The next turn's LLM request is built from this history: the new system prompt first.
    const from = alice.messages.length;
    alice.send({ type: 'user.text', sessionId: following, text: 'Hello there.' });
    await alice.waitFor((m): m is Extract<ServerMessage, { type: 'turn.ended' }> => m.type === 'turn.ended' && m.sessionId === following, from);
    const history = engine.session(following)!.history;
    expect(history[0]).toEqual({ role: 'system', content: 'You are a pirate.' });
    expect(history.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(engine.session(ownPersona)!.history[0]!.content).toBe('I bring my own persona.');

    // New sessions get the persona and the voice.
    const fresh = await bob.open();
    expect(engine.session(fresh)!.history[0]!.content).toBe('You are a pirate.');
    expect(engine.session(fresh)!.voice).toBe('en-gb');

    // Clearing the persona goes back to the profile's default.
    await alice.set({ vad: {}, poolSizes: {}, models: {} });
    expect(engine.session(following)!.history[0]!.content).toBe(DEFAULT_PERSONA);
    alice.connection.close();
    bob.connection.close();
  });

  it('holds on to open sessions only: a closed session stops following the persona at once', async () => {
    const client = new Client(service);
    const before = settings.followerCount;
    const first = await client.open();
    await client.open();
    await client.open('I bring my own persona.');
    expect(settings.followerCount).toBe(before + 2);
    client.send({ type: 'session.close', sessionId: first });
    expect(settings.followerCount).toBe(before + 1);
    client.connection.close();
    expect(settings.followerCount).toBe(before);
  });

  it('reports VAD, pool and model changes as needing a restart until they are set back', async () => {
    const client = new Client(service);
    const changed = await client.set({ vad: { minSilenceMs: 900 }, poolSizes: { llm: 1 }, models: { llm: 'qwen2.5-0.5b-instruct-q4_k_m' } });
    expect(changed.restartRequired).toEqual(['vad', 'poolSizes', 'models']);
    const back = await client.set({ vad: {}, poolSizes: {}, models: {} });
    expect(back.restartRequired).toEqual([]);
    client.connection.close();
  });
});
