import { AppError, ErrorCode } from '../../shared/errors.contract';
import { CLOSE_BUSY, CLOSE_NOT_CONNECTED, type IceSettings } from '../../shared/share.contract';
import { DEFAULT_PEER_CONNECT_TIMEOUT_MS, PeerDeadlines, type PeerExpiry } from './peer-deadlines';
import { newPeerId, parseShareClientMessage, shareError, type SignalConnection, type SignalSocket } from './share-hub';

/** Close code for a talker whose renderer went away: the page reconnects and gets another (RFC 6455 1012, Service Restart). */
export const CLOSE_RENDERER_LOST = 1012;

export interface RemoteTalkHubOptions {
  ice: IceSettings;
  /**
   * A talker whose WebRTC connection the renderer does not report connected within this long (of
   * joining, or of a disconnection) gives its renderer back and is closed.
   */
  connectTimeoutMs?: number;
}

/** A pooled renderer page: `warming` until it says `renderer.ready` (again after every talk); `taken` by one talker. */
interface PooledRenderer {
  socket: SignalSocket;
  state: 'warming' | 'free' | 'taken';
  talkerId: string | null;
}

interface Talker {
  socket: SignalSocket;
  rendererId: string;
}

/** What the pool looks like from outside (serve's status line, tests). */
export interface RemoteTalkStatus {
  renderers: number;
  free: number;
  /** Talkers given a renderer whose WebRTC connection is not (or no longer) connected. */
  pending: number;
  /** Talkers whose connection the renderer reports connected: the leases. */
  talking: number;
}

/**
 * The two-way remote conversation's rendezvous: pooled renderer pages (each with the avatar loaded
 * and its own engine session) register here; every talker (a viewer page that sends its
 * microphone) takes one free renderer, and only that renderer sees its signals. The talker is
 * `pending` until the renderer reports their WebRTC connection connected, and must get there within
 * `connectTimeoutMs`; it keeps the renderer while connected and loses it when the connection fails,
 * stays down past that timeout, or its socket closes. The renderer then resets (a fresh engine
 * session) and says `renderer.ready` before it is taken again. No free renderer: a typed "busy" answer.
 */
export class RemoteTalkHub {
  private readonly renderers = new Map<string, PooledRenderer>();
  private readonly talkers = new Map<string, Talker>();
  private readonly deadlines: PeerDeadlines;

  constructor(private readonly options: RemoteTalkHubOptions) {
    this.deadlines = new PeerDeadlines(options.connectTimeoutMs ?? DEFAULT_PEER_CONNECT_TIMEOUT_MS, (talkerId, why) => this.expire(talkerId, why));
  }

  get status(): RemoteTalkStatus {
    const all = [...this.renderers.values()];
    const talking = [...this.talkers.keys()].filter((talkerId) => this.deadlines.isConnected(talkerId)).length;
    return { renderers: all.length, free: all.filter((r) => r.state === 'free').length, pending: this.talkers.size - talking, talking };
  }

  /** A pooled renderer page (app token). It is leased only after its first `renderer.ready`. */
  attachRenderer(socket: SignalSocket): SignalConnection {
    const rendererId = newPeerId('r');
    const renderer: PooledRenderer = { socket, state: 'warming', talkerId: null };
    this.renderers.set(rendererId, renderer);
    socket.send({ type: 'share.config', ice: this.options.ice, maxViewers: 1 });
    return {
      handle: (text) => this.fromRenderer(renderer, text),
      close: () => {
        if (this.renderers.get(rendererId) !== renderer) return;
        this.renderers.delete(rendererId);
        const talker = renderer.talkerId ? this.talkers.get(renderer.talkerId) : undefined;
        if (!talker || !renderer.talkerId) return;
        this.talkers.delete(renderer.talkerId);
        this.deadlines.forget(renderer.talkerId);
        const lost = new AppError(ErrorCode.WorkerCrashed, 'The avatar you were talking to stopped; reconnecting to another one.', true);
        talker.socket.send(shareError(lost, true));
        talker.socket.close(CLOSE_RENDERER_LOST, 'renderer lost');
      },
    };
  }

  /** A talker (talk token): takes a free renderer (pending until connected), or gets `busy` and a closed socket (null). */
  attachTalker(socket: SignalSocket): SignalConnection | null {
    const free = [...this.renderers.entries()].find(([, renderer]) => renderer.state === 'free');
    if (!free) {
      socket.send(shareError(this.busyError(), true));
      socket.close(CLOSE_BUSY, 'busy');
      return null;
    }
    const [rendererId, renderer] = free;
    const talkerId = newPeerId('t');
    const talker: Talker = { socket, rendererId };
    this.talkers.set(talkerId, talker);
    renderer.state = 'taken';
    renderer.talkerId = talkerId;
    socket.send({ type: 'share.config', ice: this.options.ice, maxViewers: this.renderers.size });
    socket.send({ type: 'sender.ready' });
    renderer.socket.send({ type: 'peer.join', peerId: talkerId });
    this.deadlines.watch(talkerId);
    return {
      handle: (text) => this.fromTalker(talkerId, talker, text),
      close: () => this.release(talkerId, talker),
    };
  }

  /** Closes every socket (host shutdown). */
  close(): void {
    this.deadlines.clear();
    for (const talker of this.talkers.values()) talker.socket.close(1001, 'server shutting down');
    for (const renderer of this.renderers.values()) renderer.socket.close(1001, 'server shutting down');
    this.talkers.clear();
    this.renderers.clear();
  }

  private busyError(): AppError {
    const capacity = this.renderers.size;
    return new AppError(
      ErrorCode.PoolExhausted,
      capacity === 0
        ? 'The avatar is busy: no avatar is ready to talk yet. Try again in a moment.'
        : `The avatar is busy: ${capacity} of ${capacity} conversation(s) already running, which is the limit. Try again later.`,
      true,
    );
  }

  /** The talker's renderer goes back to the pool once it has reset (a fresh engine session): it says `renderer.ready` then. */
  private release(talkerId: string, talker: Talker): void {
    if (this.talkers.get(talkerId) !== talker) return;
    this.talkers.delete(talkerId);
    this.deadlines.forget(talkerId);
    const taken = this.renderers.get(talker.rendererId);
    if (taken?.talkerId !== talkerId) return;
    taken.talkerId = null;
    taken.state = 'warming';
    taken.socket.send({ type: 'peer.leave', peerId: talkerId });
  }

  /** A talker whose connection failed or never came up: the renderer goes back, the page is told and closed (it rejoins). */
  private expire(talkerId: string, why: PeerExpiry): void {
    const talker = this.talkers.get(talkerId);
    if (!talker) return;
    this.release(talkerId, talker);
    const reason = this.deadlines.describe(why);
    talker.socket.send({ type: 'share.error', code: ErrorCode.Cancelled, message: `The avatar's stream did not reach this page (${reason}); trying again.`, fatal: true });
    talker.socket.close(CLOSE_NOT_CONNECTED, reason);
  }

  private fromRenderer(renderer: PooledRenderer, text: string): void {
    const message = parseShareClientMessage(renderer.socket, text);
    if (!message) return;
    switch (message.type) {
      case 'hello':
        return;
      case 'renderer.ready':
        if (renderer.state === 'warming') renderer.state = 'free';
        return;
      case 'peer.state':
        if (message.peerId === renderer.talkerId) this.deadlines.report(message.peerId, message.state);
        return;
      case 'signal':
        if (message.peerId && message.peerId === renderer.talkerId) {
          this.deadlines.touch(message.peerId);
          this.talkers.get(message.peerId)?.socket.send({ type: 'signal', peerId: message.peerId, data: message.data });
        }
        return;
      default:
        renderer.socket.send({ type: 'share.error', code: ErrorCode.InvalidMessage, message: `A pooled renderer cannot send ${message.type}.`, fatal: false });
    }
  }

  private fromTalker(talkerId: string, talker: Talker, text: string): void {
    const message = parseShareClientMessage(talker.socket, text);
    if (!message || message.type === 'hello') return;
    if (message.type !== 'signal') {
      talker.socket.send({ type: 'share.error', code: ErrorCode.Unauthorized, message: 'A talker can only send signals.', fatal: false });
      return;
    }
    const renderer = this.renderers.get(talker.rendererId);
    if (renderer?.talkerId !== talkerId) return;
    this.deadlines.touch(talkerId);
    renderer.socket.send({ type: 'signal', peerId: talkerId, data: message.data });
  }
}
