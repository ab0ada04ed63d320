import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../app/shared/errors.contract';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { createEngine, type EngineInstance } from '../../app/engine/create-engine';
import type { Engine, EngineConnection } from '../../app/engine/engine-api';
import { engineWithServices } from '../../app/engine/engine-with-services';
import { SettingsFile } from '../../app/engine/settings/settings-file';
import { createSettingsService, type SettingsService } from '../../app/engine/settings/settings-service';
import { scriptedConfig } from './engine-harness';

/**
 * What one client can make the engine hold: a bounded number of sessions per connection, and
 * nothing left behind by a session once it closes — measured as the resident memory of this
 * process (the engine runs here; scripted workers run in their own host process) over 20,000
 * session open/close cycles on one connection, with the settings service composed in as the apps do.
 */

const MAX_SESSIONS = 8;
const CYCLES = 20_000;
/** Growth allowed after the cycles: allocator slack and JIT code, not a per-session leak (20,000 sessions leaking 2 KB each would be 40 MB). */
const MAX_RSS_GROWTH_BYTES = 40 * 1024 * 1024;
/** The JavaScript heap after a full collection is steadier than RSS: this catches leaks from about 400 bytes a session. */
const MAX_HEAP_GROWTH_BYTES = 8 * 1024 * 1024;

/** `global.gc`, exposed at runtime when the process was not started with --expose-gc. */
function garbageCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const gc = garbageCollector();

async function settledRssBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().rss;
}

/** A client that keeps only what the test reads, so the test itself holds nothing per message. */
class LeanClient {
  readonly connection: EngineConnection;
  lastSessionId: string | null = null;
  lastError: Extract<ServerMessage, { type: 'error' }> | null = null;
  errors = 0;

  constructor(engine: Engine) {
    this.connection = engine.connect((message) => {
      if (message.type === 'session.opened') this.lastSessionId = message.sessionId;
      if (message.type === 'error') {
        this.lastError = message;
        this.errors += 1;
      }
    });
  }

  /** Opens a session; the engine answers synchronously. Null when refused. */
  open(requestId: string): string | null {
    this.lastSessionId = null;
    this.connection.handle({ type: 'session.open', requestId });
    return this.lastSessionId;
  }

  close(sessionId: string): void {
    this.connection.handle({ type: 'session.close', sessionId });
  }
}

/** Yields to the event loop so closing sessions settle (Session.close is asynchronous). */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let instance: EngineInstance;
let settings: SettingsService;
let engine: Engine;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'avatar-session-limits-'));
  instance = createEngine(scriptedConfig({}, { maxSessionsPerConnection: MAX_SESSIONS }), {
    openingSession: (request) => settings.sessionDefaults(request),
    sessionClosed: (sessionId) => settings.sessionClosed(sessionId),
  });
  await instance.start();
  settings = createSettingsService(instance, {
    file: new SettingsFile(dir),
    startedWith: { settings: { vad: {}, poolSizes: {}, models: {} } },
    defaultPersona: 'You are the default persona.',
  });
  engine = engineWithServices(instance, { settings });
});

afterAll(async () => {
  await instance?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sessions per connection', () => {
  it('refuses a session beyond the cap with a typed error in words, and allows one again after a close', () => {
    const client = new LeanClient(engine);
    const open = Array.from({ length: MAX_SESSIONS }, (_, i) => client.open(`r${i}`));
    expect(open.every((sessionId) => sessionId !== null)).toBe(true);
    expect(client.connection.openSessions).toBe(MAX_SESSIONS);

    expect(client.open('one-too-many')).toBeNull();
    expect(client.lastError).toMatchObject({ type: 'error', code: ErrorCode.SessionLimit, recoverable: true });
    expect(client.lastError!.message).toMatch(/8 conversation\(s\) open, which is the limit/);

    client.close(open[0]!);
    expect(client.connection.openSessions).toBe(MAX_SESSIONS - 1);
    expect(client.open('after-close')).not.toBeNull();
    // The cap is per connection: another client is not affected.
    const other = new LeanClient(engine);
    expect(other.open('other')).not.toBeNull();
    client.connection.close();
    other.connection.close();
    expect(settings.followerCount).toBe(0);
  });

  it(`holds a bounded amount of memory for ${CYCLES} session.open requests that never close`, async () => {
    const client = new LeanClient(engine);
    const before = await settledRssBytes();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < CYCLES; i++) {
      client.open(`flood-${i}`);
      if (i % 500 === 0) await yieldToLoop();
    }
    const after = await settledRssBytes();
    const heapAfter = process.memoryUsage().heapUsed;
    console.info(
      `open flood: RSS ${(before / 2 ** 20).toFixed(1)} MB → ${(after / 2 ** 20).toFixed(1)} MB, ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} MB → ${(heapAfter / 2 ** 20).toFixed(1)} MB`,
    );
    expect(after - before).toBeLessThanOrEqual(MAX_RSS_GROWTH_BYTES);
    expect(heapAfter - heapBefore).toBeLessThanOrEqual(MAX_HEAP_GROWTH_BYTES);
    expect(client.errors).toBe(CYCLES - MAX_SESSIONS);
    expect(client.connection.openSessions).toBe(MAX_SESSIONS);
    client.connection.close();
  });

  it(`returns to its starting memory after ${CYCLES} session open/close cycles on one connection`, async () => {
    const client = new LeanClient(engine);
    // Warm up first: JIT code and the allocator's first growth are not a leak.
    for (let i = 0; i < 2000; i++) client.close(client.open(`warm-${i}`)!);
    await yieldToLoop();
    const before = await settledRssBytes();
    const heapBefore = process.memoryUsage().heapUsed;
    let last = '';
    for (let i = 0; i < CYCLES; i++) {
      const sessionId = client.open(`cycle-${i}`);
      expect(sessionId).not.toBeNull();
      client.close(sessionId!);
      last = sessionId!;
      if (i % 500 === 0) await yieldToLoop();
    }
    await yieldToLoop();
    const after = await settledRssBytes();
    const heapAfter = process.memoryUsage().heapUsed;
    console.info(
      `open/close cycles: RSS ${(before / 2 ** 20).toFixed(1)} MB → ${(after / 2 ** 20).toFixed(1)} MB, ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} MB → ${(heapAfter / 2 ** 20).toFixed(1)} MB`,
    );
    expect(after - before).toBeLessThanOrEqual(MAX_RSS_GROWTH_BYTES);
    expect(heapAfter - heapBefore).toBeLessThanOrEqual(MAX_HEAP_GROWTH_BYTES);
    expect(client.errors).toBe(0);
    expect(client.connection.openSessions).toBe(0);
    expect(instance.session(last)).toBeUndefined();
    expect(settings.followerCount).toBe(0);
    client.connection.close();
  });
});
