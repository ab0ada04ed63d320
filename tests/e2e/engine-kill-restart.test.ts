import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandLine, runtimeHostsOf, servePidOf } from '../../bench/process-probes';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { ServeWsClient } from '../support/serve-ws-client';

/**
 * The engine itself stopped during a turn — SIGTERM (a shutdown) and SIGKILL (a crash, the OOM
 * killer) — then `serve` started again on the same data folder: the page's next session continues
 * the same conversation with everything that was said, and the next turn is answered. No runtime
 * host outlives its engine. The real `serve` process (scripted profile) over its WebSocket.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'avatar-engine-kill-'));
let serve: ServeProcess | undefined;

afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ServeWsClient> {
  serve = await startServeProcess('scripted', ['--data-dir', dataDir]);
  return ServeWsClient.connect(serve.url);
}

async function gone(pids: number[], timeoutMs = 15_000): Promise<boolean> {
  const untilMs = performance.now() + timeoutMs;
  while (pids.some((pid) => commandLine(pid).length > 0)) {
    if (performance.now() > untilMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

describe('the engine stopped during a turn, then started again on the same data folder', () => {
  const said: string[] = [];
  const heard: string[] = [];
  let conversationId = '';

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}: the conversation continues with everything said, and the next turn is answered`, { timeout: 120_000 }, async () => {
      const client = await start();
      const loaded = await client.open();
      if (conversationId) expect(loaded.conversationId).toBe(conversationId);
      conversationId = loaded.conversationId;
      // Everything said before this start is there, in order.
      expect(loaded.entries.filter((entry) => entry.type === 'user').map((entry) => entry.text)).toEqual(said);
      for (const text of heard) expect(loaded.entries.filter((entry) => entry.type === 'avatar').map((entry) => entry.text)).toContain(text);

      const first = await client.say(`My name is Ada (${signal}).`);
      expect(first.status).toBe('complete');
      said.push(`My name is Ada (${signal}).`);
      heard.push(first.heardText);

      // A long reply is being written and spoken when the engine goes.
      const from = client.messages.length;
      client.send({ type: 'user.text', sessionId: client.sessionId, text: `Tell me a long story (${signal}).` });
      said.push(`Tell me a long story (${signal}).`);
      await client.waitFor('tts.chunk', () => true, from);
      const engine = servePidOf(serve!.child.pid!)!;
      const hosts = [...runtimeHostsOf(engine).keys()];
      expect(hosts.length).toBeGreaterThan(0);
      const exited = new Promise((resolve) => serve!.child.once('exit', resolve));
      process.kill(engine, signal);
      await exited;
      client.close();
      expect(await gone([engine, ...hosts]), 'the engine and its runtime hosts exit').toBe(true);
    });
  }

  it('after both, a new start shows the whole conversation and answers', { timeout: 120_000 }, async () => {
    const client = await start();
    const loaded = await client.open();
    expect(loaded.conversationId).toBe(conversationId);
    expect(loaded.entries.filter((entry) => entry.type === 'user').map((entry) => entry.text)).toEqual(said);
    const avatar = loaded.entries.filter((entry) => entry.type === 'avatar').map((entry) => entry.text);
    for (const text of heard) expect(avatar).toContain(text);
    const next = await client.say('What is my name?');
    expect(next.status).toBe('complete');
    expect(next.replyText).toMatch(/What is my name/);
    expect(client.messages.filter((message) => message.type === 'error')).toEqual([]);
    client.close();
  });
});
