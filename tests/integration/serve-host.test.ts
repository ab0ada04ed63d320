import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../app/shared/binary-frame';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { parseServerMessage } from '../../app/shared/validate';
import type { EngineInstance } from '../../app/engine/create-engine';
import { startServeHost, type ServeHandle } from '../../app/hosts/serve/serve-host';
import { scriptedConfig, startEngine } from './engine-harness';

/** The `serve` host over a real socket, with the real engine (host process + worker threads). */

let engine: EngineInstance;
let serve: ServeHandle;

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), 'renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
  engine = await startEngine(scriptedConfig());
  serve = await startServeHost({ engine, rendererDir, port: 0 });
});

afterAll(async () => {
  await serve?.close();
  await engine?.shutdown();
});

class Client {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const raw = isBinary ? decodeBinaryFrame(new Uint8Array(data)) : JSON.parse(data.toString('utf8'));
      this.messages.push(parseServerMessage(raw));
      for (const waiter of [...this.waiters]) waiter();
    });
  }
  static async open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Client(ws);
  }
  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }
  waitFor<T extends ServerMessage['type']>(type: T, from = 0): Promise<Extract<ServerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), 20_000);
      const check = (): void => {
        const found = this.messages.slice(from).find((message) => message.type === type);
        if (found) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((waiter) => waiter !== check);
          resolve(found as Extract<ServerMessage, { type: T }>);
        }
      };
      this.waiters.push(check);
      check();
    });
  }
}

function wsUrl(token: string | null): string {
  return `ws://127.0.0.1:${serve.port}/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
}

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => resolve(-1));
  });
}

describe('serve host', () => {
  it('binds to loopback, prints a tokenised URL and serves the renderer with a CSP', async () => {
    expect(serve.server.address()).toMatchObject({ address: '127.0.0.1' });
    expect(serve.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${serve.port}/\\?token=[A-Za-z0-9_-]{20,}$`));
    const response = await fetch(`http://127.0.0.1:${serve.port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`http://127.0.0.1:${serve.port}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses WebSockets without the token, with a wrong token, or from a foreign origin', async () => {
    expect(await upgradeStatus(wsUrl(null))).toBe(401);
    expect(await upgradeStatus(wsUrl('wrong'))).toBe(401);
    expect(await upgradeStatus(wsUrl(serve.token), { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(wsUrl(serve.token), { Origin: `http://127.0.0.1:${serve.port}` })).toBe(101);
  });

  it('carries a typed text turn round trip, with audio as binary frames', async () => {
    const client = await Client.open(wsUrl(serve.token));
    client.send({ type: 'session.open', requestId: 'r1' });
    const { sessionId } = await client.waitFor('session.opened');
    client.send({ type: 'user.text', sessionId, text: 'Hello there, avatar.' });
    const ended = await client.waitFor('turn.ended');
    expect(ended.status).toBe('complete');
    expect(ended.replyText.length).toBeGreaterThan(0);
    const chunks = client.messages.filter((m): m is Extract<ServerMessage, { type: 'tts.chunk' }> => m.type === 'tts.chunk');
    expect(chunks.length).toBe(ended.chunkCount);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks[0]!.pcm).toBeInstanceOf(Float32Array);
    expect(chunks[0]!.pcm.length).toBeGreaterThan(0);
    expect(client.messages.some((m) => m.type === 'reply.delta')).toBe(true);
    await client.waitFor('turn.trace');
    client.ws.close();
  });

  it('answers malformed messages with a typed error and keeps the connection', async () => {
    const client = await Client.open(wsUrl(serve.token));
    client.ws.send('{not json');
    const first = await client.waitFor('error');
    expect(first).toMatchObject({ code: 'invalid_message', recoverable: true });
    const count = client.messages.length;
    client.send({ type: 'user.text', sessionId: 'x' });
    const second = await client.waitFor('error', count);
    expect(second.message).toMatch(/text/);
    const count2 = client.messages.length;
    client.ws.send(Buffer.from([1, 2, 3]));
    expect((await client.waitFor('error', count2)).message).toMatch(/binary frame/);
    const count3 = client.messages.length;
    client.ws.send(encodeBinaryFrame({ type: 'mic.audio', sessionId: 's', seq: 0, sampleRateHz: 8000, pcm: new Float32Array(4) }));
    expect((await client.waitFor('error', count3)).message).toMatch(/sampleRateHz/);
    const count4 = client.messages.length;
    client.send({ type: 'user.text', sessionId: 'no-such-session', text: 'hi' });
    expect((await client.waitFor('error', count4)).code).toBe('unknown_session');
    client.send({ type: 'ping', nonce: 42 });
    expect((await client.waitFor('pong')).nonce).toBe(42);
    client.ws.close();
  });
});
