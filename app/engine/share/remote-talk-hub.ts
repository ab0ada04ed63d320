import { AppError, ErrorCode } from '../../shared/errors.contract';
import { CLOSE_BUSY, type IceSettings } from '../../shared/share.contract';
import { newPeerId, parseShareClientMessage, shareError, type SignalConnection, type SignalSocket } from './share-hub';

/** Close code for a talker whose renderer went away: the page reconnects and gets another (RFC 6455 1012, Service Restart). */
export const CLOSE_RENDERER_LOST = 1012;

export interface RemoteTalkHubOptions {
  ice: IceSettings;
}

/** A pooled renderer page: `warming` until it says `renderer.ready` (again after every talk). */
interface PooledRenderer {
  socket: SignalSocket;
  state: 'warming' | 'free' | 'leased';
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
  talking: number;
}

/**
 * The two-way remote conversation's rendezvous: pooled renderer pages (each with the avatar loaded
 * and its own engine session) register here; every talker (a viewer page that sends its
 * microphone) leases one free renderer for as long as its socket lives, and only that renderer sees
 * its signals. When the talker leaves, the renderer resets (a fresh engine session) and says
 * `renderer.ready` before it is leased again. No free renderer: a typed "busy" answer.
 */
export class RemoteTalkHub {
  private readonly renderers = new Map<string, PooledRenderer>();
  private readonly talkers = new Map<string, Talker>();

  constructor(private readonly options: RemoteTalkHubOptions) {}

  get status(): RemoteTalkStatus {
    const all = [...this.renderers.values()];
    return { renderers: all.length, free: all.filter((r) => r.state === 'free').length, talking: this.talkers.size };
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
        const lost = new AppError(ErrorCode.WorkerCrashed, 'The avatar you were talking to stopped; reconnecting to another one.', true);
        talker.socket.send(shareError(lost, true));
        talker.socket.close(CLOSE_RENDERER_LOST, 'renderer lost');
      },
    };
  }

  /** A talker (talk token): leases a free renderer, or gets `busy` and a closed socket (null). */
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
    renderer.state = 'leased';
    renderer.talkerId = talkerId;
    socket.send({ type: 'share.config', ice: this.options.ice, maxViewers: this.renderers.size });
    socket.send({ type: 'sender.ready' });
    renderer.socket.send({ type: 'peer.join', peerId: talkerId });
    return {
      handle: (text) => this.fromTalker(talkerId, talker, text),
      close: () => {
        if (this.talkers.get(talkerId) !== talker) return;
        this.talkers.delete(talkerId);
        const leased = this.renderers.get(rendererId);
        if (leased?.talkerId !== talkerId) return;
        // Back to the pool once it has reset (a fresh engine session): it says `renderer.ready` then.
        leased.talkerId = null;
        leased.state = 'warming';
        leased.socket.send({ type: 'peer.leave', peerId: talkerId });
      },
    };
  }

  /** Closes every socket (host shutdown). */
  close(): void {
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

  private fromRenderer(renderer: PooledRenderer, text: string): void {
    const message = parseShareClientMessage(renderer.socket, text);
    if (!message) return;
    switch (message.type) {
      case 'renderer.ready':
        if (renderer.state === 'warming') renderer.state = 'free';
        return;
      case 'signal':
        if (message.peerId && message.peerId === renderer.talkerId) {
          this.talkers.get(message.peerId)?.socket.send({ type: 'signal', peerId: message.peerId, data: message.data });
        }
        return;
      default:
        renderer.socket.send({ type: 'share.error', code: ErrorCode.InvalidMessage, message: `A pooled renderer cannot send ${message.type}.`, fatal: false });
    }
  }

  private fromTalker(talkerId: string, talker: Talker, text: string): void {
    const message = parseShareClientMessage(talker.socket, text);
    if (!message) return;
    if (message.type !== 'signal') {
      talker.socket.send({ type: 'share.error', code: ErrorCode.Unauthorized, message: 'A talker can only send signals.', fatal: false });
      return;
    }
    const renderer = this.renderers.get(talker.rendererId);
    if (renderer?.talkerId === talkerId) renderer.socket.send({ type: 'signal', peerId: talkerId, data: message.data });
  }
}
