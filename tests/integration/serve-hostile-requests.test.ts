import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EngineInstance } from '../../app/engine/create-engine';
import { startDesktopShare, type DesktopShare } from '../../app/hosts/electron/desktop-share';
import { startServeHost, type ServeHandle } from '../../app/hosts/serve/serve-host';
import { headerFields, rawRequest, requestHead, UPGRADE_HEADERS } from '../support/raw-http';
import { scriptedConfig, startEngine } from './engine-harness';

/**
 * Nothing a client sends stops the host: a corpus of hostile and careless HTTP requests (bad paths,
 * bad percent-encodings, absolute- and authority-form targets, huge headers and bodies, every route
 * × every method × every token) against `serve` with a real engine and against the desktop share
 * server's code path. Every request gets an HTTP answer and the host stays healthy. (An error that
 * escaped a handler would reach vitest as an unhandled error and fail the run.)
 */

const ROUTES = ['/', '/healthz', '/index.html', '/view', '/ws', '/signal', '/signal?role=viewer', '/whep', '/whep/abc'];
const BAD_TARGETS = [
  '//a:99999/x',
  '//x:0x/ws',
  '//x:0x/whep',
  '//x:0x/signal',
  '/whep/%zz',
  '/whep/%',
  '/%zz',
  '/%',
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/../../etc/passwd',
  '/index.html%00',
  'http://evil:99999/x',
  'http://127.0.0.1/healthz',
  'https://[::1/x',
  '*',
  'host:443',
  '/ws?token=%zz',
  '/signal?role=%zz&token=%',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT'];

interface Target {
  port: number;
  tokens: Record<string, string | null>;
}

function withToken(route: string, token: string | null): string {
  if (token === null) return route;
  return `${route}${route.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/** A request head with this server's own Host (`127.0.0.1:<port>`). */
function ownHead(port: number, method: string, target: string, extra: string[] = []): string {
  return requestHead(method, target, extra, `127.0.0.1:${port}`);
}

/** An upgrade request keeps only its own Connection header (`Upgrade`). */
function asSent(request: string): string {
  return request.includes('Upgrade: websocket') ? request.replace('Connection: close\r\n', '') : request;
}

/** Sends the whole corpus; returns the requests that got no HTTP status back. */
async function sendCorpus(target: Target): Promise<string[]> {
  const unanswered: string[] = [];
  const requestHead = (method: string, path: string, extra: string[] = []): string => ownHead(target.port, method, path, extra);
  const send = async (label: string, request: string | Buffer): Promise<void> => {
    const answer = await rawRequest(target.port, request);
    if (answer.status === 0) unanswered.push(label);
  };
  for (const [tokenName, token] of Object.entries(target.tokens)) {
    const auth = token === null ? [] : [`Authorization: Bearer ${token}`];
    for (const route of [...ROUTES, ...BAD_TARGETS]) {
      const path = route.startsWith('/') ? withToken(route, token) : route;
      for (const method of METHODS) {
        const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? 'v=0\r\n' : '';
        const headers = [...auth, ...(body ? ['Content-Type: application/sdp', `Content-Length: ${body.length}`] : [])];
        await send(`${method} ${path} (${tokenName})`, requestHead(method, path, headers) + body);
      }
      await send(`upgrade ${path} (${tokenName})`, requestHead('GET', path, UPGRADE_HEADERS.concat(auth)).replace('Connection: close\r\n', ''));
    }
  }
  // Huge headers, a huge declared body, a huge streamed body, garbage bytes, a bare newline.
  const view = target.tokens.view!;
  await send('huge header', requestHead('GET', '/', [`X-Big: ${'a'.repeat(200_000)}`]));
  await send('many headers', requestHead('GET', '/', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`)));
  await send('huge declared body', requestHead('POST', '/whep', [`Authorization: Bearer ${view}`, 'Content-Type: application/sdp', 'Content-Length: 1000000000']));
  await send(
    'huge streamed body',
    Buffer.concat([
      Buffer.from(requestHead('POST', '/whep', [`Authorization: Bearer ${view}`, 'Content-Type: application/sdp', 'Transfer-Encoding: chunked'])),
      Buffer.from(`${(1 << 20).toString(16)}\r\n${'v'.repeat(1 << 20)}\r\n0\r\n\r\n`),
    ]),
  );
  await send('garbage bytes', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0xfb, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]));
  await send('bad version', 'GET / HTTP/9.9\r\n\r\n');
  await send('bad header name', 'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n');
  return unanswered;
}

async function healthy(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

async function statusOf(port: number, request: string): Promise<number> {
  return (await rawRequest(port, request)).status;
}

describe('serve host under hostile requests', () => {
  let engine: EngineInstance;
  let serve: ServeHandle;
  let rendererDir = '';

  beforeAll(async () => {
    rendererDir = mkdtempSync(join(tmpdir(), 'hostile-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
    engine = await startEngine(scriptedConfig());
    serve = await startServeHost({ engine, rendererDir, port: 0, share: { remoteTalk: {} } });
  });

  afterAll(async () => {
    await serve?.close();
    await engine?.shutdown();
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('answers the reported host killers without a token and stays up', async () => {
    expect(await statusOf(serve.port, ownHead(serve.port, 'GET', '//a:99999/x'))).toBe(404);
    expect(await statusOf(serve.port, ownHead(serve.port, 'GET', '//x:0x/ws', UPGRADE_HEADERS))).toBe(404);
    expect(await statusOf(serve.port, ownHead(serve.port, 'DELETE', '/whep/%zz', [`Authorization: Bearer ${serve.viewToken}`]))).toBe(404);
    expect(await statusOf(serve.port, ownHead(serve.port, 'GET', 'http://evil:99999/x'))).toBe(400);
    expect(await healthy(serve.port)).toBe(200);
  });

  it('refuses an oversized WHEP body with 413 instead of resetting the connection', async () => {
    const head = ownHead(serve.port, 'POST', '/whep', [`Authorization: Bearer ${serve.viewToken}`, 'Content-Type: application/sdp', 'Content-Length: 10000000']);
    expect(await statusOf(serve.port, head)).toBe(413);
  });

  it('answers only to its own Host: a rebinding name, another port or no Host is refused on every route', async () => {
    const port = serve.port;
    const routes: Array<[string, string, string[]]> = [
      ['GET', '/', []],
      ['GET', '/index.html', []],
      ['GET', '/healthz', []],
      ['POST', '/whep', [`Authorization: Bearer ${serve.viewToken}`, 'Content-Type: application/sdp', 'Content-Length: 0']],
      ['GET', `/ws?token=${serve.token}`, UPGRADE_HEADERS],
      ['GET', `/signal?role=viewer&token=${serve.viewToken}`, UPGRADE_HEADERS],
      ['GET', `/signal?role=talker&token=${serve.talkToken}`, UPGRADE_HEADERS],
    ];
    const foreign = ['evil.example', `evil.example:${port}`, `rebind.127.0.0.1.nip.io:${port}`, `localhost.:${port}`, `127.0.0.1:${port + 1}`, `192.168.1.20:${port}`];
    for (const [method, path, extra] of routes) {
      for (const host of foreign) {
        expect({ host, path, status: await statusOf(port, asSent(requestHead(method, path, extra, host))) }).toEqual({ host, path, status: 421 });
      }
      expect({ path, status: await statusOf(port, asSent(requestHead(method, path, extra, null))) }).toEqual({ path, status: 400 });
      // An absolute-form target names the host itself, whatever the Host header says.
      const absolute = requestHead(method, `http://evil.example:${port}${path}`, extra, `127.0.0.1:${port}`);
      expect({ path, status: await statusOf(port, asSent(absolute)) }).toEqual({ path, status: 421 });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      expect({ host, status: await statusOf(port, requestHead('GET', '/', [], host)) }).toEqual({ host, status: 200 });
    }
    expect(await statusOf(port, requestHead('GET', `http://localhost:${port}/healthz`, [], 'evil.example'))).toBe(200);
  });

  it('sends the security headers with every answer: pages, errors, WHEP, refusals and upgrades', async () => {
    const port = serve.port;
    const bearer = `Authorization: Bearer ${serve.viewToken}`;
    const requests: Array<[number, string]> = [
      [200, ownHead(port, 'GET', '/')],
      [200, ownHead(port, 'GET', '/healthz')],
      [404, ownHead(port, 'GET', '/no-such-file')],
      [405, ownHead(port, 'POST', '/')],
      [400, ownHead(port, 'GET', '*')],
      [401, ownHead(port, 'POST', '/whep', ['Content-Type: application/sdp', 'Content-Length: 0'])],
      [415, ownHead(port, 'POST', '/whep', [bearer, 'Content-Type: text/plain', 'Content-Length: 0'])],
      [413, ownHead(port, 'POST', '/whep', [bearer, 'Content-Type: application/sdp', 'Content-Length: 10000000'])],
      [404, ownHead(port, 'DELETE', '/whep/nobody', [bearer])],
      [421, requestHead('GET', '/', [], `evil.example:${port}`)],
      [405, ownHead(port, 'CONNECT', `127.0.0.1:${port}`)],
      [401, ownHead(port, 'GET', '/ws?token=wrong', UPGRADE_HEADERS)],
      [403, ownHead(port, 'GET', `/ws?token=${serve.token}`, [...UPGRADE_HEADERS, 'Origin: https://evil.example'])],
      [404, ownHead(port, 'GET', '/nowhere', UPGRADE_HEADERS)],
      [421, requestHead('GET', `/ws?token=${serve.token}`, UPGRADE_HEADERS, `evil.example:${port}`)],
      [101, ownHead(port, 'GET', `/ws?token=${serve.token}`, UPGRADE_HEADERS)],
      [101, ownHead(port, 'GET', `/signal?role=viewer&token=${serve.viewToken}`, UPGRADE_HEADERS)],
    ];
    const expected = {
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'x-frame-options': 'DENY',
    };
    for (const [status, request] of requests) {
      const answer = await rawRequest(port, asSent(request));
      const fields = headerFields(answer.head);
      const security = Object.fromEntries(Object.keys(expected).map((name) => [name, fields.get(name)]));
      expect({ request: request.split('\r\n')[0], status: answer.status, security }).toEqual({ request: request.split('\r\n')[0], status, security: expected });
    }
    const garbage = await rawRequest(port, Buffer.from('GET / HTTP/9.9\r\n\r\n'));
    expect(garbage.status).toBe(400);
    expect(headerFields(garbage.head).get('x-frame-options')).toBe('DENY');
  });

  it('answers every route × method × token and every malformed target, then still serves', async () => {
    const unanswered = await sendCorpus({
      port: serve.port,
      tokens: { none: null, wrong: 'not-a-token', view: serve.viewToken, talk: serve.talkToken, app: serve.token },
    });
    expect(unanswered).toEqual([]);
    expect(await healthy(serve.port)).toBe(200);
    // The engine still answers a real client.
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/ws?token=${serve.token}`);
    const pong = await new Promise<unknown>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'ping', nonce: 7 })));
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as { type: string };
        if (message.type === 'pong') resolve(message);
      });
      ws.once('error', reject);
    });
    ws.close();
    expect(pong).toEqual({ type: 'pong', nonce: 7 });
  }, 120_000);
});

describe('desktop share server under hostile requests', () => {
  let share: DesktopShare;
  let rendererDir = '';

  beforeAll(async () => {
    rendererDir = mkdtempSync(join(tmpdir(), 'hostile-desktop-'));
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
    writeFileSync(join(rendererDir, 'view.html'), '<!doctype html><title>viewer</title>');
    share = await startDesktopShare({ rendererDir, remoteTalk: true });
  });

  afterAll(async () => {
    await share?.close();
    rmSync(rendererDir, { recursive: true, force: true });
  });

  it('answers the same corpus and stays healthy', async () => {
    const { handle } = share;
    expect(await statusOf(handle.port, ownHead(handle.port, 'DELETE', '/whep/%zz', [`Authorization: Bearer ${handle.viewToken}`]))).toBe(404);
    expect(await statusOf(handle.port, requestHead('GET', '/view', [], `evil.example:${handle.port}`))).toBe(421);
    const unanswered = await sendCorpus({
      port: handle.port,
      tokens: { none: null, wrong: 'not-a-token', view: handle.viewToken, talk: handle.talkToken, app: handle.token },
    });
    expect(unanswered).toEqual([]);
    expect(await healthy(handle.port)).toBe(200);
  }, 120_000);
});
