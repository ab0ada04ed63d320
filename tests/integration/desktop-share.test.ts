import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ShareEndpointSchema } from '../../app/shared/messages.contract';
import { ShareServerMessageSchema, type ShareServerMessage } from '../../app/shared/share.contract';
import { APP_ORIGIN } from '../../app/hosts/electron/app-protocol';
import { startDesktopShare, type DesktopShare } from '../../app/hosts/electron/desktop-share';
import { desktopShareEndpoint } from '../../app/renderer/transport/electron-engine-client';

/** The Electron app's share server (plain Node, so it runs here without the Electron binary). */

let rendererDir = '';
let share: DesktopShare;

beforeAll(async () => {
  rendererDir = mkdtempSync(join(tmpdir(), 'desktop-share-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
  writeFileSync(join(rendererDir, 'view.html'), '<!doctype html><title>viewer</title>');
  share = await startDesktopShare({ rendererDir });
});

afterAll(async () => {
  await share?.close();
  rmSync(rendererDir, { recursive: true, force: true });
});

/** A signaling socket that records validated messages; resolves once open, rejects with the refusal status. */
async function openSignal(url: string, origin?: string): Promise<{ ws: WebSocket; messages: ShareServerMessage[] }> {
  const ws = new WebSocket(url, origin ? { headers: { Origin: origin } } : {});
  const messages: ShareServerMessage[] = [];
  ws.on('message', (data: Buffer) => messages.push(ShareServerMessageSchema.parse(JSON.parse(data.toString('utf8')))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.on('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, messages };
}

async function until<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const endMs = performance.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (performance.now() > endMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('desktop share server', () => {
  it('listens on loopback with an endpoint the window can use', () => {
    const endpoint = ShareEndpointSchema.parse(share.endpoint);
    expect((share.handle.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect(endpoint.signalUrl).toBe(`ws://127.0.0.1:${share.handle.port}/signal`);
    expect(endpoint.viewUrl).toBe(`http://127.0.0.1:${share.handle.port}/view?token=${share.handle.viewToken}`);
    expect(endpoint.token).not.toBe(share.handle.viewToken);
  });

  it('exposes no engine WebSocket, even with the app token', async () => {
    const url = `ws://127.0.0.1:${share.handle.port}/ws?token=${share.endpoint.token}`;
    await expect(openSignal(url)).rejects.toThrow('HTTP 404');
  });

  it('lets the app:// window share (Origin app://avatar) and a viewer watch through /view with the view token only', async () => {
    const { signalUrl, token, viewUrl } = share.endpoint;
    const sender = await openSignal(`${signalUrl}?role=sender&token=${encodeURIComponent(token)}`, APP_ORIGIN);
    const config = await until(() => sender.messages.find((m) => m.type === 'share.config'));
    expect(config).toMatchObject({ viewToken: share.handle.viewToken });

    const page = await fetch(viewUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>viewer</title>');
    const viewToken = new URL(viewUrl).searchParams.get('token')!;
    const viewer = await openSignal(`${signalUrl}?role=viewer&token=${encodeURIComponent(viewToken)}`, `http://127.0.0.1:${share.handle.port}`);
    await until(() => sender.messages.find((m) => m.type === 'peer.join'));

    // The view token watches but never shares; a wrong token and a foreign page are refused.
    await expect(openSignal(`${signalUrl}?role=sender&token=${encodeURIComponent(viewToken)}`, APP_ORIGIN)).rejects.toThrow('HTTP 401');
    await expect(openSignal(`${signalUrl}?role=sender&token=wrong-token-0123456789`, APP_ORIGIN)).rejects.toThrow('HTTP 401');
    await expect(openSignal(`${signalUrl}?role=sender&token=${encodeURIComponent(token)}`, 'https://evil.example')).rejects.toThrow('HTTP 403');
    await expect(openSignal(`${signalUrl}?role=sender&token=${encodeURIComponent(token)}`, 'app://evil')).rejects.toThrow('HTTP 403');
    viewer.ws.close();
    sender.ws.close();
  });

  it('no longer accepts file:// pages (Origin null or file://), whatever their token', async () => {
    const { signalUrl, token } = share.endpoint;
    for (const origin of ['null', 'file://']) {
      await expect(openSignal(`${signalUrl}?role=sender&token=${encodeURIComponent(token)}`, origin)).rejects.toThrow('HTTP 403');
    }
  });

  it('accepts the window origin it is given instead (tests serve the build under their own origin)', async () => {
    const other = await startDesktopShare({ rendererDir, windowOrigin: 'http://avatar.localhost' });
    try {
      const url = `${other.endpoint.signalUrl}?role=sender&token=${encodeURIComponent(other.endpoint.token)}`;
      const sender = await openSignal(url, 'http://avatar.localhost');
      sender.ws.close();
      await expect(openSignal(url, APP_ORIGIN)).rejects.toThrow('HTTP 403');
    } finally {
      await other.close();
    }
  });

  it('has no remote talk unless opted in; with it, the pooled renderer page registers from the server\'s own address', async () => {
    expect(share.pooledRendererUrl).toBeNull();
    const pooledWithout = `${share.endpoint.signalUrl}?role=renderer&token=${encodeURIComponent(share.endpoint.token)}`;
    await expect(openSignal(pooledWithout, `http://127.0.0.1:${share.handle.port}`)).rejects.toThrow('HTTP 401');

    const talk = await startDesktopShare({ rendererDir, remoteTalk: true });
    try {
      const origin = `http://127.0.0.1:${talk.handle.port}`;
      expect(talk.pooledRendererUrl).toBe(`${origin}/?token=${talk.endpoint.token}&remote=1`);
      const page = await fetch(talk.pooledRendererUrl!);
      expect(await page.text()).toContain('<title>avatar</title>');
      const renderer = await openSignal(`${talk.endpoint.signalUrl}?role=renderer&token=${encodeURIComponent(talk.endpoint.token)}`, origin);
      renderer.ws.close();
      const talkToken = talk.handle.talkToken!;
      const talker = await openSignal(`${talk.endpoint.signalUrl}?role=talker&token=${encodeURIComponent(talkToken)}`, origin);
      talker.ws.close();
      await expect(openSignal(`${talk.endpoint.signalUrl}?role=renderer&token=${encodeURIComponent(talkToken)}`, origin)).rejects.toThrow('HTTP 401');
    } finally {
      await talk.close();
    }
  });

  it('listens on every interface only when the user opts in to the LAN', async () => {
    const lan = await startDesktopShare({ rendererDir, lan: true });
    try {
      expect((lan.handle.server.address() as AddressInfo).address).toBe('0.0.0.0');
      expect(lan.endpoint.signalUrl).toBe(`ws://127.0.0.1:${lan.handle.port}/signal`);
    } finally {
      await lan.close();
    }
  });
});

describe('desktopShareEndpoint (renderer side of the preload call)', () => {
  const bridge = (reply: () => Promise<unknown>) => ({ send: () => undefined, onMessage: () => () => undefined, shareEndpoint: reply });

  it('returns a validated endpoint, and null for an old preload, a refusal or a reply that does not validate', async () => {
    expect(await desktopShareEndpoint(bridge(async () => share.endpoint))).toEqual(share.endpoint);
    expect(await desktopShareEndpoint({ send: () => undefined, onMessage: () => () => undefined })).toBeNull();
    expect(await desktopShareEndpoint(bridge(async () => null))).toBeNull();
    expect(await desktopShareEndpoint(bridge(async () => ({ ...share.endpoint, signalUrl: 'https://elsewhere.example/signal' })))).toBeNull();
    expect(await desktopShareEndpoint(bridge(() => Promise.reject(new Error('no handler'))))).toBeNull();
  });
});
