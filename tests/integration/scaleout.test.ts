import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONVERSATIONS_FOLDER, newConversationId } from '../../app/engine/conversation/conversation-journal';
import { ConversationIdSchema } from '../../app/shared/conversation.contract';
import { ConversationClient, ENGINE_COUNT, ScaleoutCluster, scaleoutMissingReason } from '../support/scaleout-cluster';

/**
 * Scale-out on real parts: three headless `serve` engines (scripted runtimes), each in a network
 * namespace of its own, behind HAProxy running the shipped deploy/haproxy.cfg, one shared data
 * folder. Interleaved conversations stick to their engines; one engine is killed (SIGKILL: no
 * goodbye, its journal leases left to go stale); its conversations continue on the others with
 * their history, and every other conversation keeps its engine.
 */
const skipReason = scaleoutMissingReason();
const CONVERSATIONS = 6;

describe.skipIf(skipReason !== null)(`scale-out behind HAProxy${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  const cluster = new ScaleoutCluster();
  const clients: ConversationClient[] = [];

  beforeAll(async () => {
    await cluster.start();
    for (let i = 0; i < CONVERSATIONS; i++) clients.push(new ConversationClient(cluster, newConversationId()));
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await cluster.close();
  });

  /** The status and the answering engine of a request through the balancer (an upgrade is answered 101 and closed). */
  const engineAnswering = (path: string, headers: Record<string, string>): Promise<{ status: number; engine: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: cluster.lbPort, path, headers });
      const answered = (status: number, response: IncomingMessage): void => resolve({ status, engine: String(response.headers['x-avatar-engine']) });
      req.on('response', (response) => {
        response.resume();
        answered(response.statusCode ?? 0, response);
      });
      req.on('upgrade', (response, socket) => {
        socket.destroy();
        answered(101, response);
      });
      req.on('error', reject);
      req.end();
    });
  const say = (client: ConversationClient, turn: number): string => `Conversation ${clients.indexOf(client)} turn ${turn}.`;
  const journalTexts = (client: ConversationClient): string[] =>
    readFileSync(join(cluster.dataDir, CONVERSATIONS_FOLDER, `${client.conversationId}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string })
      .filter((line) => line.type === 'user')
      .map((line) => line.text!);

  it('names the page’s conversation in its address (a page without one is sent to a new one)', async () => {
    const page = await fetch(`http://${cluster.lbHost}/?token=${cluster.token}&quality=low`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    const target = new URL(page.headers.get('location')!, `http://${cluster.lbHost}`);
    expect(target.searchParams.get('quality')).toBe('low');
    expect(ConversationIdSchema.safeParse(target.searchParams.get('conversation')).success).toBe(true);
    const named = await fetch(target);
    expect(named.status).toBe(200);
    expect(await named.text()).toContain('<html');
  });

  it('spreads new conversations over the engines and keeps each on its engine across reconnects and interleaved turns', async () => {
    for (const client of clients) expect((await client.open()).entries).toEqual([]);
    const first = new Map(clients.map((client) => [client, client.engine]));
    expect(new Set(first.values()).size, cluster.output()).toBe(ENGINE_COUNT);

    for (const turn of [1, 2]) {
      const ended = await Promise.all(clients.map((client) => client.say(say(client, turn))));
      for (const [i, end] of ended.entries()) {
        expect(end.status).toBe('complete');
        expect(end.replyText).toContain(`You said Conversation ${i} turn ${turn}`);
      }
    }
    // A reload: a new connection lands on the same engine, which hands back the same conversation.
    for (const client of clients) {
      const loaded = await client.reopen();
      expect(client.engine).toBe(first.get(client));
      expect(loaded.conversationId).toBe(client.conversationId);
      expect(loaded.entries.filter((entry) => entry.type === 'user').map((entry) => entry.text)).toEqual([say(client, 1), say(client, 2)]);
    }
    const table = await cluster.stickTable();
    for (const client of clients) expect(`engine${table.get(client.conversationId)}`).toBe(client.engine);
  });

  it('sends a conversation’s share signaling and WHEP to its engine too', async () => {
    for (const client of clients) {
      const query = `token=${cluster.token}&conversation=${client.conversationId}`;
      expect(await engineAnswering(`/signal?role=viewer&${query}`, { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' })).toEqual({ status: 101, engine: client.engine });
      // No page shares here, so the engine answers that it cannot; what counts is which engine answers.
      const whep = await fetch(`http://${cluster.lbHost}/whep?conversation=${client.conversationId}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${cluster.token}` },
        body: 'v=0\r\n',
      });
      await whep.text();
      expect(whep.headers.get('x-avatar-engine')).toBe(client.engine);
    }
  });

  it('continues a killed engine’s conversations on another engine with their history; the others keep their engine', async () => {
    const victim = clients[0]!.engine;
    const orphans = clients.filter((client) => client.engine === victim);
    const others = clients.filter((client) => client.engine !== victim);
    const before = new Map(clients.map((client) => [client, client.engine]));
    expect(orphans.length).toBeGreaterThan(0);

    const dropped = orphans.map((client) => client.closed());
    await cluster.kill(victim);
    await Promise.all(dropped);

    for (const client of orphans) {
      const loaded = await client.reopen();
      expect(client.engine, cluster.output()).not.toBe(victim);
      expect(client.engine).toMatch(/^engine\d$/);
      // The history the dead engine journaled, read by the new one from the shared folder.
      expect(loaded.conversationId).toBe(client.conversationId);
      expect(loaded.entries.map((entry) => entry.type)).toEqual(['user', 'avatar', 'user', 'avatar']);
      expect(loaded.entries.filter((entry) => entry.type === 'user').map((entry) => entry.text)).toEqual([say(client, 1), say(client, 2)]);
      const end = await client.say(say(client, 3));
      expect(end.status).toBe('complete');
    }
    for (const client of others) {
      const loaded = await client.reopen();
      expect(client.engine).toBe(before.get(client));
      expect(loaded.entries).toHaveLength(4);
      expect((await client.say(say(client, 3))).status).toBe('complete');
    }
    // HAProxy took the dead engine out; the orphans' new engine is remembered for their next request.
    const states = await cluster.serverStates();
    expect(states[Number(victim.replace('engine', '')) - 1]).not.toBe('UP');
    const table = await cluster.stickTable();
    for (const client of clients) expect(`engine${table.get(client.conversationId)}`).toBe(client.engine);

    // The new engine writes the journal once the dead one's lease went stale: every turn once, in order.
    for (const client of clients) {
      await expect.poll(() => journalTexts(client), { timeout: 10_000 }).toEqual([say(client, 1), say(client, 2), say(client, 3)]);
    }
  });
});
