import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_BUSY, CLOSE_NOT_CONNECTED, ShareServerMessageSchema, type PeerConnectionState, type ShareServerMessage } from '../../app/shared/share.contract';
import { CLOSE_RENDERER_LOST, RemoteTalkHub } from '../../app/engine/share/remote-talk-hub';
import { RendererPool, type PooledRendererHandle, type RendererLauncher } from '../../app/engine/share/renderer-pool';
import { ShareHub } from '../../app/engine/share/share-hub';

/** A signaling socket as the hub sees it; every message must pass the contract the pages validate with. */
class RecordingSocket {
  readonly received: ShareServerMessage[] = [];
  closedWith: number | null = null;

  send(message: ShareServerMessage): void {
    this.received.push(ShareServerMessageSchema.parse(JSON.parse(JSON.stringify(message))));
  }

  close(code: number): void {
    this.closedWith = code;
  }

  last(): ShareServerMessage | undefined {
    return this.received.at(-1);
  }

  ofType<T extends ShareServerMessage['type']>(type: T): Extract<ShareServerMessage, { type: T }>[] {
    return this.received.filter((message): message is Extract<ShareServerMessage, { type: T }> => message.type === type);
  }
}

const ICE = { iceServers: [], iceTransportPolicy: 'all' as const };
const OFFER = { type: 'offer', sdp: 'v=0' };
const READY = JSON.stringify({ type: 'renderer.ready' });

function readyRenderer(hub: RemoteTalkHub) {
  const socket = new RecordingSocket();
  const connection = hub.attachRenderer(socket);
  connection.handle(READY);
  return { socket, connection };
}

describe('remote-talk hub', () => {
  it('answers busy, in words the pages accept, while no renderer is ready', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    hub.attachRenderer(new RecordingSocket()); // loading: not leasable before renderer.ready
    const talker = new RecordingSocket();
    expect(hub.attachTalker(talker)).toBeNull();
    expect(talker.last()).toMatchObject({ type: 'share.error', code: 'pool_exhausted', fatal: true });
    expect((talker.last() as { message: string }).message).toMatch(/busy/i);
    expect(talker.closedWith).toBe(CLOSE_BUSY);
  });

  it('leases one renderer per talker, routes signals only between the pair, and refuses a talker beyond capacity', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    const renderer = readyRenderer(hub);
    expect(hub.status).toEqual({ renderers: 1, free: 1, pending: 0, talking: 0 });

    const talker = new RecordingSocket();
    const talk = hub.attachTalker(talker)!;
    expect(talk).not.toBeNull();
    expect(talker.received.map((message) => message.type)).toEqual(['share.config', 'sender.ready']);
    const [join] = renderer.socket.ofType('peer.join');
    expect(join).toBeDefined();
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 1, talking: 0 });

    renderer.connection.handle(JSON.stringify({ type: 'signal', peerId: join!.peerId, data: OFFER }));
    expect(talker.last()).toEqual({ type: 'signal', peerId: join!.peerId, data: OFFER });
    talk.handle(JSON.stringify({ type: 'signal', data: { type: 'answer', sdp: 'v=0' } }));
    expect(renderer.socket.last()).toEqual({ type: 'signal', peerId: join!.peerId, data: { type: 'answer', sdp: 'v=0' } });
    // A signal for someone else's talker goes nowhere.
    const before = talker.received.length;
    renderer.connection.handle(JSON.stringify({ type: 'signal', peerId: 't-somebody-else', data: OFFER }));
    expect(talker.received).toHaveLength(before);

    const late = new RecordingSocket();
    expect(hub.attachTalker(late)).toBeNull();
    expect(late.closedWith).toBe(CLOSE_BUSY);
  });

  it('serves several talkers at once, each on a renderer of its own', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    const renderers = [readyRenderer(hub), readyRenderer(hub)];
    const talkers = [new RecordingSocket(), new RecordingSocket()];
    for (const talker of talkers) expect(hub.attachTalker(talker)).not.toBeNull();
    expect(renderers.map((renderer) => renderer.socket.ofType('peer.join').length)).toEqual([1, 1]);
    expect(hub.status).toEqual({ renderers: 2, free: 0, pending: 2, talking: 0 });
    const third = new RecordingSocket();
    expect(hub.attachTalker(third)).toBeNull();
    expect((third.last() as { message: string }).message).toMatch(/2 of 2/);
  });

  it('returns the renderer to the pool only after it reset (renderer.ready), then leases it again', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    const renderer = readyRenderer(hub);
    const first = hub.attachTalker(new RecordingSocket())!;
    const firstId = renderer.socket.ofType('peer.join')[0]!.peerId;
    first.close();
    expect(renderer.socket.last()).toEqual({ type: 'peer.leave', peerId: firstId });
    expect(hub.status.free).toBe(0);
    expect(hub.attachTalker(new RecordingSocket())).toBeNull();

    renderer.connection.handle(READY);
    const again = new RecordingSocket();
    expect(hub.attachTalker(again)).not.toBeNull();
    const secondId = renderer.socket.ofType('peer.join')[1]!.peerId;
    expect(secondId).not.toBe(firstId);
  });

  it('tells the talker when its renderer goes away, so the page reconnects to another', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    const renderer = readyRenderer(hub);
    const talker = new RecordingSocket();
    hub.attachTalker(talker);
    renderer.connection.close();
    expect(talker.last()).toMatchObject({ type: 'share.error', fatal: true });
    expect(talker.closedWith).toBe(CLOSE_RENDERER_LOST);
    expect(hub.status).toEqual({ renderers: 0, free: 0, pending: 0, talking: 0 });
  });

  it('shows the talk token to the sharing app only, never to a viewer', () => {
    const share = new ShareHub({ ice: ICE, maxViewers: 2, viewToken: 'view-token', talkToken: 'talk-token' });
    const sender = new RecordingSocket();
    share.attachSender(sender);
    expect(sender.ofType('share.config')[0]).toMatchObject({ viewToken: 'view-token', talkToken: 'talk-token' });
    const viewer = new RecordingSocket();
    share.attachViewer(viewer);
    const config = viewer.ofType('share.config')[0]!;
    expect(config.talkToken).toBeUndefined();
    expect(config.viewToken).toBeUndefined();
  });

  it('answers bad input with a typed error and changes nothing', () => {
    const hub = new RemoteTalkHub({ ice: ICE });
    const renderer = readyRenderer(hub);
    const talker = new RecordingSocket();
    const talk = hub.attachTalker(talker)!;
    talk.handle('not json');
    expect(talker.last()).toMatchObject({ type: 'share.error', code: 'invalid_message', fatal: false });
    talk.handle(READY);
    expect(talker.last()).toMatchObject({ type: 'share.error', code: 'unauthorized', fatal: false });
    renderer.connection.handle(JSON.stringify({ type: 'whep.answer', peerId: 'w-1', sdp: 'v=0' }));
    expect(renderer.socket.last()).toMatchObject({ type: 'share.error', code: 'invalid_message', fatal: false });
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 1, talking: 0 });
  });
});

function peerState(peerId: string, state: PeerConnectionState): string {
  return JSON.stringify({ type: 'peer.state', peerId, state });
}

describe('remote-talk hub: a renderer is leased only while media flows', () => {
  const CONNECT_TIMEOUT_MS = 20_000;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives back the renderer of a talker that never connects, closes it with the reason, and serves the next talker', () => {
    const hub = new RemoteTalkHub({ ice: ICE, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const renderer = readyRenderer(hub);
    const idle = new RecordingSocket();
    hub.attachTalker(idle);
    const idleId = renderer.socket.ofType('peer.join')[0]!.peerId;
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 1, talking: 0 });
    expect(hub.attachTalker(new RecordingSocket())).toBeNull();

    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(idle.closedWith).toBe(CLOSE_NOT_CONNECTED);
    expect(idle.ofType('share.error')[0]).toMatchObject({ fatal: true });
    expect(idle.ofType('share.error')[0]!.message).toMatch(/no WebRTC connection within 20 s/);
    expect(renderer.socket.last()).toEqual({ type: 'peer.leave', peerId: idleId });
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 0, talking: 0 });

    renderer.connection.handle(READY);
    const next = new RecordingSocket();
    expect(hub.attachTalker(next)).not.toBeNull();
    expect(renderer.socket.ofType('peer.join')[1]!.peerId).not.toBe(idleId);
  });

  it('leases the renderer once it reports the talker connected, for as long as the connection lasts', () => {
    const hub = new RemoteTalkHub({ ice: ICE, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const renderer = readyRenderer(hub);
    const talker = new RecordingSocket();
    hub.attachTalker(talker);
    const talkerId = renderer.socket.ofType('peer.join')[0]!.peerId;
    renderer.connection.handle(peerState(talkerId, 'connecting'));
    renderer.connection.handle(peerState(talkerId, 'connected'));
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 0, talking: 1 });
    vi.advanceTimersByTime(10 * CONNECT_TIMEOUT_MS);
    expect(talker.closedWith).toBeNull();

    // A report about someone else's talker changes nothing.
    renderer.connection.handle(peerState('t-somebody-else', 'failed'));
    expect(hub.status.talking).toBe(1);
    // A dropped connection that heals in time keeps the lease.
    renderer.connection.handle(peerState(talkerId, 'disconnected'));
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 1, talking: 0 });
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS - 1);
    renderer.connection.handle(peerState(talkerId, 'connected'));
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(talker.closedWith).toBeNull();

    // Media stops: the lease ends at once.
    renderer.connection.handle(peerState(talkerId, 'failed'));
    expect(talker.closedWith).toBe(CLOSE_NOT_CONNECTED);
    expect(talker.ofType('share.error')[0]!.message).toMatch(/failed/);
    expect(renderer.socket.last()).toEqual({ type: 'peer.leave', peerId: talkerId });
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 0, talking: 0 });
  });

  it('ends the lease of a talker whose connection stays down past the timeout', () => {
    const hub = new RemoteTalkHub({ ice: ICE, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const renderer = readyRenderer(hub);
    const talker = new RecordingSocket();
    hub.attachTalker(talker);
    const talkerId = renderer.socket.ofType('peer.join')[0]!.peerId;
    renderer.connection.handle(peerState(talkerId, 'connected'));
    renderer.connection.handle(peerState(talkerId, 'disconnected'));
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(talker.closedWith).toBe(CLOSE_NOT_CONNECTED);
    expect(hub.status.pending + hub.status.talking).toBe(0);
  });

  it('ends the lease when the talker socket closes, and then no timer fires for it', () => {
    const hub = new RemoteTalkHub({ ice: ICE, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const renderer = readyRenderer(hub);
    const talker = new RecordingSocket();
    const talk = hub.attachTalker(talker)!;
    renderer.connection.handle(peerState(renderer.socket.ofType('peer.join')[0]!.peerId, 'connected'));
    talk.close();
    expect(hub.status).toEqual({ renderers: 1, free: 0, pending: 0, talking: 0 });
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(talker.closedWith).toBeNull();
    expect(renderer.socket.ofType('peer.leave')).toHaveLength(1);
  });
});

/** Renderer pages that the test closes (a crash) or fails to start, as a launcher reports them. */
class ScriptedLauncher implements RendererLauncher {
  readonly pages: Array<{ url: string; crash(): void; closed: boolean }> = [];
  failNext = 0;
  disposed = false;

  async launch(url: string): Promise<PooledRendererHandle> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('no browser');
    }
    let crash = (): void => undefined;
    const closed = new Promise<void>((resolve) => (crash = resolve));
    const page = { url, crash: () => crash(), closed: false };
    this.pages.push(page);
    return {
      closed,
      close: async () => {
        page.closed = true;
        crash();
      },
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('renderer pool', () => {
  it('keeps its size: a renderer that goes away is replaced, a failed start is retried', async () => {
    const launcher = new ScriptedLauncher();
    const lines: string[] = [];
    const pool = new RendererPool(launcher, { size: 2, url: 'http://127.0.0.1:1/?token=t&remote=1', restartDelayMs: 5, log: (line) => lines.push(line) });
    await pool.start();
    expect(launcher.pages.map((page) => page.url)).toEqual(['http://127.0.0.1:1/?token=t&remote=1', 'http://127.0.0.1:1/?token=t&remote=1']);
    expect(pool.running).toBe(2);

    launcher.failNext = 1;
    launcher.pages[0]!.crash();
    await until(() => launcher.pages.length === 3 && pool.running === 2);
    expect(lines.some((line) => /went away/.test(line))).toBe(true);
    expect(lines.some((line) => /could not start: no browser/.test(line))).toBe(true);

    await pool.close();
    // The crashed page was already gone; the two running ones are closed.
    expect(launcher.pages.map((page) => page.closed)).toEqual([false, true, true]);
    expect(launcher.disposed).toBe(true);
    expect(pool.running).toBe(0);
  });

  it('refuses an empty pool', () => {
    expect(() => new RendererPool(new ScriptedLauncher(), { size: 0, url: 'http://x/' })).toThrow(RangeError);
  });
});
