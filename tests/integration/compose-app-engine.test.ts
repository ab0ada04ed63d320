import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import type { EngineSettings } from '../../app/shared/settings.contract';
import { composeAppEngine, type AppEngine } from '../../app/engine/compose-app-engine';
import type { EngineConnection } from '../../app/engine/engine-api';
import { micFrames } from './engine-harness';

/** The one composition of `serve` and Electron main: settings file → config → engine + services. */

type SettingsCurrent = Extract<ServerMessage, { type: 'settings.current' }>;

const dirs: string[] = [];
let composed: AppEngine | undefined;

function dataDir(settings?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'avatar-compose-'));
  dirs.push(dir);
  if (settings !== undefined) writeFileSync(join(dir, 'settings.json'), settings);
  return dir;
}

async function compose(dir: string): Promise<AppEngine> {
  composed = await composeAppEngine({ profile: 'scripted', dataDir: dir, modelsDir: join(dir, 'models') });
  return composed;
}

afterEach(async () => {
  await composed?.engine.shutdown();
  composed = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class Client {
  readonly messages: ServerMessage[] = [];
  readonly connection: EngineConnection;
  constructor(app: AppEngine) {
    this.connection = app.engine.connect((message) => this.messages.push(message));
  }
  send(message: ClientMessage): void {
    this.connection.handle(message);
  }
  async waitFor<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, from = 0, timeoutMs = 15_000): Promise<T> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
  }
  async set(settings: EngineSettings): Promise<SettingsCurrent> {
    const from = this.messages.length;
    this.send({ type: 'settings.set', settings });
    return this.waitFor((m): m is SettingsCurrent => m.type === 'settings.current', from);
  }
  /** VAD speech-end events after `from`. */
  speechEnds(from: number): number {
    return this.messages.slice(from).filter((m) => m.type === 'vad' && m.event === 'speech-end').length;
  }
}

/** Tone bursts separated by `gapMs` of silence, then a long silence, as mic frames. */
function twoBursts(gapMs: number, amplitude = 1): Float32Array<ArrayBuffer>[] {
  const frames = [...micFrames('speech', 400), ...micFrames('silence', gapMs), ...micFrames('speech', 400), ...micFrames('silence', 1000)];
  if (amplitude !== 1) for (const frame of frames) for (let i = 0; i < frame.length; i++) frame[i]! *= amplitude;
  return frames;
}

describe('composeAppEngine', () => {
  it('puts the settings file into the engine config and serves them', async () => {
    const dir = dataDir(JSON.stringify({ persona: 'You are a pirate.', vad: { threshold: 0.3, minSilenceMs: 600 }, poolSizes: { tts: 1 }, models: {} }));
    const app = await compose(dir);
    expect(app.warnings).toEqual([]);
    expect(app.config.defaultPersona).toBe('You are a pirate.');
    expect(app.config.workers.tts.count).toBe(1);
    expect(app.config.workers.llm.count).toBe(2); // the profile's own where the settings say nothing
    expect(app.config.vadSensitivity?.()).toEqual({ threshold: 0.3, minSilenceMs: 600 });
    expect(app.summary.join('\n')).toMatch(/scripted/);

    const client = new Client(app);
    client.send({ type: 'settings.get' });
    const current = await client.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(current.settings.persona).toBe('You are a pirate.');
    expect(current.file).toBe(join(dir, 'settings.json'));
    client.connection.close();
  });

  it('starts on the defaults with a warning when the settings file is corrupt, keeping the old file', async () => {
    const dir = dataDir('{ "persona": "half a file');
    const app = await compose(dir);
    expect(app.warnings).toEqual([expect.stringMatching(/settings file was unusable .*settings\.json\.corrupt/)]);
    expect(app.config.vadSensitivity?.()).toEqual({});
    expect(readFileSync(join(dir, 'settings.json.corrupt'), 'utf8')).toBe('{ "persona": "half a file');
    expect(existsSync(join(dir, 'settings.json'))).toBe(false);
    const client = new Client(app);
    client.send({ type: 'settings.get' });
    const current = await client.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(current.warning).toMatch(/unusable/);
    client.connection.close();
  });

  it('applies new VAD sensitivity to the next utterance without a restart', async () => {
    // Start with a long end silence and a threshold the quiet tone stays under.
    const app = await compose(dataDir(JSON.stringify({ vad: { minSilenceMs: 700, threshold: 0.9 } })));
    await app.engine.start();
    const client = new Client(app);
    client.send({ type: 'session.open', requestId: 'open-1' });
    const { sessionId } = await client.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened');
    let seq = 0;
    /** Sends the frames; counts speech ends once the expected number arrived (or 10 s passed) and nothing more came for 700 ms. */
    const speak = async (frames: Float32Array<ArrayBuffer>[], expected: number): Promise<number> => {
      const from = client.messages.length;
      for (const pcm of frames) client.send({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: 16000, pcm });
      const untilMs = performance.now() + 10_000;
      while (client.speechEnds(from) < expected && performance.now() < untilMs) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 700));
      return client.speechEnds(from);
    };

    // A 0.03 tone (RMS 0.021) is under threshold 0.9; two bursts 400 ms apart are one utterance with 700 ms.
    expect(await speak(twoBursts(400, 0.1), 0)).toBe(0);
    expect(await speak(twoBursts(400), 1)).toBe(1);

    const changed = await client.set({ vad: { minSilenceMs: 200, threshold: 0.3 }, poolSizes: {}, models: {} });
    expect(changed.restartRequired).toEqual([]);
    expect(await speak(twoBursts(400), 2)).toBe(2);
    expect(await speak(twoBursts(400, 0.1), 2)).toBe(2);

    // Pool sizes still need a restart.
    const pools = await client.set({ vad: { minSilenceMs: 200, threshold: 0.3 }, poolSizes: { llm: 1 }, models: {} });
    expect(pools.restartRequired).toEqual(['poolSizes']);
    client.connection.close();
  }, 30_000);
});
