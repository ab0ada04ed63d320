import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_IDLE, CLOSE_NOT_CONNECTED, type ShareServerMessage } from '../../app/shared/share.contract';
import type { EngineInstance } from '../../app/engine/create-engine';
import { startServeHost, type ServeHandle } from '../../app/hosts/serve/serve-host';
import { scriptedConfig, startEngine } from './engine-harness';

/**
 * Every socket of the `serve` host has a lifetime and a bound, over real sockets with the real
 * engine: heartbeats end sockets whose peer vanished, idle sockets are closed with a reason, each
 * endpoint refuses connections beyond its cap at the upgrade, abandoned WHEP sessions free their
 * places and an idle talker gives its renderer back. Timeouts are short here; the defaults are seconds.
 */

const HEARTBEAT_MS = 200;
const IDLE_MS = 400;
const PEER_CONNECT_MS = 400;
const MAX_CONNECTIONS = 3;

let engine: EngineInstance;
let serve: ServeHandle;

beforeAll(async () => {
  const rendererDir = mkdtempSync(join(tmpdir(), 'renderer-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>avatar</title>');
  engine = await startEngine(scriptedConfig());
  serve = await startServeHost({
    engine,
    rendererDir,
    port: 0,
    limits: {
      heartbeatIntervalMs: HEARTBEAT_MS,
      engineIdleTimeoutMs: IDLE_MS,
      signalIdleTimeoutMs: IDLE_MS,
      maxEngineConnections: MAX_CONNECTIONS,
      maxSignalConnections: MAX_CONNECTIONS,
    },
    share: { peerConnectTimeoutMs: PEER_CONNECT_MS, remoteTalk: {} },
  });
});

afterAll(async () => {
  await serve?.close();
  await engine?.shutdown();
});

/** A client socket with what it received and how it closed. */
class Peer {
  readonly messages: Array<Record<string, unknown>> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  }
  static async open(path: string, options: WebSocket.ClientOptions = {}): Promise<Peer> {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}${path}`, options);
    const peer = new Peer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return peer;
  }
  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }
  async waitFor(type: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 200; i++) {
      const found = this.messages.find((message) => message.type === type);
      if (found) return found;
      await pause(25);
    }
    throw new Error(`no ${type}; got ${this.messages.map((message) => String(message.type)).join(', ')}`);
  }
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function engineSocket(options: WebSocket.ClientOptions = {}): Promise<Peer> {
  return Peer.open(`/ws?token=${encodeURIComponent(serve.token)}`, options);
}

function signalSocket(role: string, token: string, options: WebSocket.ClientOptions = {}): Promise<Peer> {
  return Peer.open(`/signal?role=${role}&token=${encodeURIComponent(token)}`, options);
}

function upgradeStatus(path: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}${path}`);
    ws.on('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] }));
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, retryAfter: undefined });
    });
    ws.on('error', () => resolve({ status: -1, retryAfter: undefined }));
  });
}

function whepPost(): Promise<Response> {
  return fetch(`http://127.0.0.1:${serve.port}/whep`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${serve.viewToken}`, 'Content-Type': 'application/sdp' },
    body: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n',
  });
}

describe('serve socket lifetimes', () => {
  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const silent = await engineSocket({ autoPong: false });
    const answering = await engineSocket();
    // Both hold a session, so only the heartbeat can end them.
    for (const peer of [silent, answering]) peer.send({ type: 'session.open', requestId: 'r1' });
    await Promise.all([silent.waitFor('session.opened'), answering.waitFor('session.opened')]);
    // Terminated without a closing handshake: the client sees an abnormal closure.
    expect((await silent.closed).code).toBe(1006);
    await pause(4 * HEARTBEAT_MS);
    expect(answering.isOpen).toBe(true);
    answering.ws.close();
    await answering.closed;
  });

  it('closes a /ws socket that sends nothing and has no session, with the reason; one with a session stays until it closes it', async () => {
    const idle = await engineSocket();
    expect(await idle.closed).toEqual({ code: CLOSE_IDLE, reason: 'idle: no message and no open session for 400 ms' });

    const working = await engineSocket();
    working.send({ type: 'session.open', requestId: 'r1' });
    const opened = await working.waitFor('session.opened');
    await pause(3 * IDLE_MS);
    expect(working.isOpen).toBe(true);
    working.send({ type: 'session.close', sessionId: opened.sessionId });
    expect((await working.closed).code).toBe(CLOSE_IDLE);
  });

  it('closes a /signal socket that says nothing after connecting; one that said hello stays', async () => {
    const silent = await signalSocket('viewer', serve.viewToken);
    expect(await silent.closed).toEqual({ code: CLOSE_IDLE, reason: 'idle: said nothing within 400 ms of connecting' });

    const polite = await signalSocket('sender', serve.token);
    polite.send({ type: 'hello' });
    await pause(3 * IDLE_MS);
    expect(polite.isOpen).toBe(true);
    polite.ws.close();
    await polite.closed;
  });

  it('refuses connections beyond the cap of each endpoint with 503 at the upgrade, and accepts again once one leaves', async () => {
    // Each holds a session (or has said hello), so no idle timeout ends it during the test.
    const engineSockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => engineSocket()));
    for (const peer of engineSockets) peer.send({ type: 'session.open', requestId: 'r1' });
    expect(await upgradeStatus(`/ws?token=${encodeURIComponent(serve.token)}`)).toEqual({ status: 503, retryAfter: '5' });
    // A wrong token still hears 401: the cap is no oracle for strangers.
    expect((await upgradeStatus('/ws?token=wrong')).status).toBe(401);

    const signalSockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => signalSocket('viewer', serve.viewToken)));
    for (const peer of signalSockets) peer.send({ type: 'hello' });
    expect((await upgradeStatus(`/signal?role=viewer&token=${encodeURIComponent(serve.viewToken)}`)).status).toBe(503);
    // The caps are separate: the full /signal endpoint did not take /ws places, nor the other way round.
    engineSockets[0]!.ws.close();
    await engineSockets[0]!.closed;
    expect((await upgradeStatus(`/ws?token=${encodeURIComponent(serve.token)}`)).status).toBe(101);
    expect((await upgradeStatus(`/signal?role=viewer&token=${encodeURIComponent(serve.viewToken)}`)).status).toBe(503);
    signalSockets[0]!.ws.close();
    await signalSockets[0]!.closed;
    expect((await upgradeStatus(`/signal?role=viewer&token=${encodeURIComponent(serve.viewToken)}`)).status).toBe(101);

    for (const peer of [...engineSockets, ...signalSockets]) peer.ws.close();
    await Promise.all([...engineSockets, ...signalSockets].map((peer) => peer.closed));
  });

  it('frees the places of WHEP sessions abandoned without DELETE: after the TTL a new viewer is accepted', async () => {
    const sender = await signalSocket('sender', serve.token);
    sender.send({ type: 'hello' });
    // The sending page answers every WHEP offer, and never reports on the connections.
    sender.ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as ShareServerMessage;
      if (message.type === 'whep.offer') sender.send({ type: 'whep.answer', peerId: message.peerId, sdp: 'v=0\r\nanswer' });
    });
    await sender.waitFor('share.config');
    const abandoned = await Promise.all(Array.from({ length: 4 }, () => whepPost()));
    expect(abandoned.map((response) => response.status)).toEqual([201, 201, 201, 201]);
    const busy = await whepPost();
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('2');

    await pause(2 * PEER_CONNECT_MS);
    const later = await whepPost();
    expect(later.status).toBe(201);
    // The freed sessions are gone for DELETE too.
    const gone = await fetch(`http://127.0.0.1:${serve.port}${abandoned[0]!.headers.get('location')}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${serve.viewToken}` },
    });
    expect(gone.status).toBe(404);
    sender.ws.close();
    await sender.closed;
  });

  it('gives the renderer of a talker that never connects back after the timeout, closing the talker with the reason', async () => {
    const renderer = await signalSocket('renderer', serve.token);
    renderer.send({ type: 'renderer.ready' });
    const idle = await signalSocket('talker', serve.talkToken!);
    idle.send({ type: 'hello' });
    expect(await idle.closed).toEqual({ code: CLOSE_NOT_CONNECTED, reason: 'no WebRTC connection within 400 ms' });
    expect(idle.messages.find((message) => message.type === 'share.error')).toMatchObject({ fatal: true });
    await renderer.waitFor('peer.leave');
    expect(serve.remoteTalk!.status).toMatchObject({ free: 0, pending: 0, talking: 0 });

    // The renderer reset and is ready again: the next talker gets it, and keeps it once connected.
    renderer.send({ type: 'renderer.ready' });
    const next = await signalSocket('talker', serve.talkToken!);
    next.send({ type: 'hello' });
    await next.waitFor('sender.ready');
    const joins = (): Array<Record<string, unknown>> => renderer.messages.filter((message) => message.type === 'peer.join');
    for (let i = 0; i < 200 && joins().length < 2; i++) await pause(25);
    renderer.send({ type: 'peer.state', peerId: joins()[1]!.peerId, state: 'connected' });
    await pause(3 * PEER_CONNECT_MS);
    expect(next.isOpen).toBe(true);
    expect(serve.remoteTalk!.status).toMatchObject({ pending: 0, talking: 1 });
    next.ws.close();
    renderer.ws.close();
    await Promise.all([next.closed, renderer.closed]);
  });
});
