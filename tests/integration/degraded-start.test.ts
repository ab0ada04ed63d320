import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { parseServerMessage } from '../../app/shared/validate';
import { composeAppEngine, type AppEngine } from '../../app/engine/compose-app-engine';
import { startServeHost, type ServeHandle } from '../../app/hosts/serve/serve-host';

/**
 * A broken setting cannot break the app: a model setting that does not load (written to the file
 * directly, past the checks of `settings.set`) is set aside and the engine restarts on the last
 * working models or the profile's defaults; a start that fails otherwise leaves the engine
 * explicitly degraded — `/healthz` 503 with the reason, `engine.status` saying it, turns refused
 * with it — instead of a live server with a dead engine. The real `auto` profile (silero VAD,
 * embedded eSpeak voice, placeholder LLM) behind the real `serve` host.
 */

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

class Client {
  readonly messages: ServerMessage[] = [];
  constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push(parseServerMessage(isBinary ? decodeBinaryFrame(new Uint8Array(data)) : JSON.parse(data.toString('utf8'))));
    });
  }
  static async open(serve: ServeHandle): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws?token=${serve.token}`);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }
  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }
  async waitFor<T extends ServerMessage['type']>(type: T, match: (message: Of<T>) => boolean = () => true, timeoutMs = 60_000): Promise<Of<T>> {
    const untilMs = performance.now() + timeoutMs;
    while (performance.now() < untilMs) {
      const found = this.messages.find((message): message is Of<T> => message.type === type && match(message as Of<T>));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${type}; got ${this.messages.map((m) => m.type).join(', ')}`);
  }
}

const savedDevDir = process.env.AVATAR_DEV_MODELS_DIR;
let root = '';
let rendererDir = '';
let app: AppEngine | undefined;
let serve: ServeHandle | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'avatar-degraded-'));
  rendererDir = join(root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
  // No development or installed models: the profile's defaults are the placeholder LLM and STT.
  process.env.AVATAR_DEV_MODELS_DIR = join(root, 'no-dev-models');
});

afterEach(async () => {
  await serve?.close();
  await app?.engine.shutdown();
  serve = undefined;
  app = undefined;
});

afterAll(() => {
  if (savedDevDir === undefined) delete process.env.AVATAR_DEV_MODELS_DIR;
  else process.env.AVATAR_DEV_MODELS_DIR = savedDevDir;
  rmSync(root, { recursive: true, force: true });
});

function dataDirWith(settings: object): string {
  const dir = mkdtempSync(join(root, 'data-'));
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
  return dir;
}

async function healthz(): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${serve!.port}/healthz`);
  return { status: response.status, text: await response.text() };
}

describe('a start that fails', () => {
  it('sets aside a model setting that does not load, restarts on the defaults and answers a turn in the session opened before', async () => {
    const dataDir = dataDirWith({ models: { stt: '/etc/hostname' } });
    const warned: string[] = [];
    app = await composeAppEngine({ profile: 'auto', dataDir, modelsDir: join(root, 'models'), onWarning: (warning) => warned.push(warning) });
    serve = await startServeHost({ engine: app.engine, rendererDir, port: 0 });
    expect(await healthz()).toEqual({ status: 503, text: 'starting' });

    // A page connected and opened its session while the engine was loading.
    const client = await Client.open(serve);
    client.send({ type: 'session.open', requestId: 'page-1' });
    const { sessionId } = await client.waitFor('session.opened');

    await app.engine.start();
    const setAside = /The speech-to-text model "\/etc\/hostname" in the settings could not be loaded \(.*\/etc\/hostname.*\); it was set aside and the app uses its default instead\./;
    expect(warned).toEqual([expect.stringMatching(setAside)]);
    expect(app.warnings.at(-1)).toMatch(setAside);
    expect(await healthz()).toEqual({ status: 200, text: 'ok' });
    expect(app.config.workers.stt.engine).toBe('scripted');

    // The page heard the failure, then the settings with what was set aside.
    const degraded = await client.waitFor('engine.status', (status) => status.degraded !== undefined);
    expect(degraded.degraded!.reason).toMatch(/\/etc\/hostname/);
    expect((await client.waitFor('settings.current')).warning).toMatch(setAside);
    await client.waitFor('engine.status', (status) => status.ready);

    // The settings file no longer holds the bad model; the start that worked is remembered.
    expect(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')).models).toEqual({});
    expect(existsSync(join(dataDir, 'last-working-settings.json'))).toBe(true);

    client.send({ type: 'user.text', sessionId, text: 'Are you there?' });
    const ended = await client.waitFor('turn.ended');
    expect(ended).toMatchObject({ sessionId, status: 'complete' });
    expect(ended.replyText).toMatch(/Are you there/);
    expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);
    client.ws.close();
  }, 120_000);

  it('leaves the engine degraded with the reason when the bad model is not a setting', async () => {
    const dataDir = dataDirWith({});
    // A command-line model wins over the settings: there is nothing to set aside.
    app = await composeAppEngine({ profile: 'auto', dataDir, modelsDir: join(root, 'models'), sttModelPath: '/etc/hostname', onWarning: () => undefined });
    serve = await startServeHost({ engine: app.engine, rendererDir, port: 0 });
    const client = await Client.open(serve);
    client.send({ type: 'session.open', requestId: 'page-1' });
    const { sessionId } = await client.waitFor('session.opened');

    await expect(app.engine.start()).rejects.toThrow(/\/etc\/hostname/);
    expect(app.engine.health()).toMatchObject({ state: 'degraded', failedKinds: ['stt'] });
    const health = await healthz();
    expect(health.status).toBe(503);
    expect(health.text).toMatch(/^degraded: .*\/etc\/hostname/);
    const status = await client.waitFor('engine.status', (message) => message.degraded !== undefined);
    expect(status.degraded!.reason).toBe(health.text.slice('degraded: '.length));

    client.send({ type: 'user.text', sessionId, text: 'Hello?' });
    const refused = await client.waitFor('error');
    expect(refused).toMatchObject({ code: 'engine_degraded', recoverable: false, sessionId });
    expect(refused.message).toMatch(/^The engine could not start: .*\/etc\/hostname/);
    // Settings still answer, so the user can change what broke the start.
    client.send({ type: 'settings.get' });
    await client.waitFor('settings.current');
    expect(existsSync(join(dataDir, 'last-working-settings.json'))).toBe(false);
    client.ws.close();
  }, 120_000);
});
