import { randomBytes } from 'node:crypto';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import {
  CLOSE_BUSY,
  CLOSE_NOT_CONNECTED,
  CLOSE_REPLACED,
  ShareClientMessageSchema,
  type IceSettings,
  type ShareClientMessage,
  type ShareServerMessage,
} from '../../shared/share.contract';
import { DEFAULT_PEER_CONNECT_TIMEOUT_MS, PeerDeadlines, type PeerExpiry } from './peer-deadlines';

/** One signaling socket as the hub sees it (a `ws` WebSocket in the serve host, a plain object in tests). */
export interface SignalSocket {
  send(message: ShareServerMessage): void;
  close(code: number, reason: string): void;
}

/** What the host feeds into the hub for one attached socket. */
export interface SignalConnection {
  /** A text frame from the socket; bad input is answered with `share.error`, nothing else happens. */
  handle(text: string): void;
  /** The socket closed. */
  close(): void;
}

export interface ShareHubOptions {
  ice: IceSettings;
  /** Viewer pages plus WHEP sessions at once. */
  maxViewers: number;
  /** Sent to the sender so it can show the viewer URL. */
  viewToken: string;
  /** Sent to the sender when remote talk is on, so it can show the talk URL. */
  talkToken?: string;
  /** How long a WHEP client waits for the sender's answer (ICE gathering included). */
  whepAnswerTimeoutMs?: number;
  /**
   * A viewer or WHEP session the sender does not report connected within this long (of joining,
   * or of a disconnection) loses its place; one it never reports on, this long after its last activity.
   */
  peerConnectTimeoutMs?: number;
}

interface PendingWhep {
  resolve(sdp: string): void;
  reject(error: AppError): void;
  timer: ReturnType<typeof setTimeout>;
}

export function newPeerId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('base64url')}`;
}

/** `share.error` carries code and words only (the contract's object is strict: no `recoverable`). */
export function shareError(error: AppError, fatal: boolean): ShareServerMessage {
  return { type: 'share.error', code: error.code, message: error.message, fatal };
}

/** A signaling message from `socket`, or null after answering it with a non-fatal `share.error`. */
export function parseShareClientMessage(socket: SignalSocket, text: string): ShareClientMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = ShareClientMessageSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  socket.send({ type: 'share.error', code: ErrorCode.InvalidMessage, message: 'Not a valid signaling message.', fatal: false });
  return null;
}

/**
 * The share's rendezvous: at most one sender (the renderer that shares the avatar), several viewers
 * and WHEP sessions up to a cap. Routes signals between the sender and each viewer by `peerId`,
 * joins waiting viewers when a sender (re)appears, and turns a WHEP offer into a `whep.offer` that
 * the sender answers. Holds no media: peers connect directly. Every place ends: with its socket,
 * its DELETE, or when the sender reports its connection failed or not made in time (PeerDeadlines).
 */
export class ShareHub {
  private sender: SignalSocket | null = null;
  private readonly viewers = new Map<string, SignalSocket>();
  private readonly whepSessions = new Set<string>();
  private readonly pendingWhep = new Map<string, PendingWhep>();
  private readonly deadlines: PeerDeadlines;

  constructor(private readonly options: ShareHubOptions) {
    this.deadlines = new PeerDeadlines(options.peerConnectTimeoutMs ?? DEFAULT_PEER_CONNECT_TIMEOUT_MS, (peerId, why) => this.expire(peerId, why));
  }

  get hasSender(): boolean {
    return this.sender !== null;
  }

  get viewerCount(): number {
    return this.viewers.size + this.whepSessions.size;
  }

  /** A sender socket; a newer sender replaces an older one (a reloaded app page). */
  attachSender(socket: SignalSocket): SignalConnection {
    if (this.sender) {
      const previous = this.sender;
      this.detachSender(previous);
      previous.close(CLOSE_REPLACED, 'A newer sender took over');
    }
    this.sender = socket;
    socket.send({
      type: 'share.config',
      ice: this.options.ice,
      viewToken: this.options.viewToken,
      talkToken: this.options.talkToken,
      maxViewers: this.options.maxViewers,
    });
    for (const [peerId, viewer] of this.viewers) {
      viewer.send({ type: 'sender.ready' });
      socket.send({ type: 'peer.join', peerId });
      this.deadlines.watch(peerId);
    }
    this.reportViewers();
    return {
      handle: (text) => this.fromSender(socket, text),
      close: () => this.detachSender(socket),
    };
  }

  /** A viewer socket, or null (after a `busy` error and close) when the cap is reached. */
  attachViewer(socket: SignalSocket): SignalConnection | null {
    if (this.viewerCount >= this.options.maxViewers) {
      socket.send(shareError(this.busyError(), true));
      socket.close(CLOSE_BUSY, 'busy');
      return null;
    }
    const peerId = newPeerId('v');
    this.viewers.set(peerId, socket);
    socket.send({ type: 'share.config', ice: this.options.ice, maxViewers: this.options.maxViewers });
    if (this.sender) {
      socket.send({ type: 'sender.ready' });
      this.sender.send({ type: 'peer.join', peerId });
      this.deadlines.watch(peerId);
    } else {
      socket.send({ type: 'sender.left' });
    }
    this.reportViewers();
    return {
      handle: (text) => this.fromViewer(peerId, socket, text),
      close: () => this.removeViewer(peerId, socket),
    };
  }

  /**
   * A WHEP client's offer: the sender answers it with a connection of its own. Resolves with the
   * session id and the complete answer; fails with a typed error when nobody shares, the cap is
   * reached or the sender does not answer in time.
   */
  async whepOffer(sdp: string): Promise<{ peerId: string; sdp: string }> {
    const sender = this.sender;
    // No sender is "no capacity right now" too: the errors contract has no narrower code.
    if (!sender) throw new AppError(ErrorCode.PoolExhausted, 'Nothing is being shared: start sharing in the app first.', true);
    if (this.viewerCount >= this.options.maxViewers) throw this.busyError();
    const peerId = newPeerId('w');
    this.whepSessions.add(peerId);
    // From now on: the sender may report the peer connected even before the client has the answer.
    this.deadlines.watch(peerId);
    this.reportViewers();
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new AppError(ErrorCode.Internal, 'The sharing app did not answer the WHEP offer in time.', true)),
          this.options.whepAnswerTimeoutMs ?? 10_000,
        );
        this.pendingWhep.set(peerId, { resolve, reject, timer });
        sender.send({ type: 'whep.offer', peerId, sdp });
      });
      if (!this.whepSessions.has(peerId)) throw new AppError(ErrorCode.Cancelled, 'The WHEP session ended before it was answered.', true);
      return { peerId, sdp: answer };
    } catch (error) {
      this.whepEnd(peerId);
      throw error;
    } finally {
      const pending = this.pendingWhep.get(peerId);
      if (pending) clearTimeout(pending.timer);
      this.pendingWhep.delete(peerId);
    }
  }

  /** Ends a WHEP session (DELETE); false when there is no such session. */
  whepEnd(peerId: string): boolean {
    if (!this.whepSessions.delete(peerId)) return false;
    this.deadlines.forget(peerId);
    this.sender?.send({ type: 'peer.leave', peerId });
    this.reportViewers();
    return true;
  }

  /** Closes every socket (host shutdown). */
  close(): void {
    for (const pending of this.pendingWhep.values()) {
      clearTimeout(pending.timer);
      pending.reject(new AppError(ErrorCode.Cancelled, 'The server is shutting down.', true));
    }
    this.pendingWhep.clear();
    this.sender?.close(1001, 'server shutting down');
    for (const viewer of this.viewers.values()) viewer.close(1001, 'server shutting down');
    this.sender = null;
    this.viewers.clear();
    this.whepSessions.clear();
    this.deadlines.clear();
  }

  /** A WHEP client's request on its session (besides DELETE): activity that keeps an unreported session; false when there is none. */
  whepTouch(peerId: string): boolean {
    if (!this.whepSessions.has(peerId)) return false;
    this.deadlines.touch(peerId);
    return true;
  }

  private busyError(): AppError {
    return new AppError(
      ErrorCode.PoolExhausted,
      `The share is busy: ${this.options.maxViewers} viewer(s) already watch, which is the limit. Try again later.`,
      true,
    );
  }

  private detachSender(socket: SignalSocket): void {
    if (this.sender !== socket) return;
    this.sender = null;
    // WHEP clients cannot be renegotiated by another sender: their sessions end with this one.
    for (const [peerId, pending] of this.pendingWhep) {
      clearTimeout(pending.timer);
      pending.reject(new AppError(ErrorCode.Cancelled, 'The sharing app went away.', true));
      this.pendingWhep.delete(peerId);
    }
    this.whepSessions.clear();
    // Waiting for the next sender is not a stalled connection: viewers are watched again once joined.
    this.deadlines.clear();
    for (const viewer of this.viewers.values()) viewer.send({ type: 'sender.left' });
  }

  private removeViewer(peerId: string, socket: SignalSocket): void {
    if (this.viewers.get(peerId) !== socket) return;
    this.viewers.delete(peerId);
    this.deadlines.forget(peerId);
    this.sender?.send({ type: 'peer.leave', peerId });
    this.reportViewers();
  }

  /** A place whose peer failed or never connected: a viewer page is told and closed (it rejoins), a WHEP session ends. */
  private expire(peerId: string, why: PeerExpiry): void {
    if (this.whepEnd(peerId)) return;
    const viewer = this.viewers.get(peerId);
    if (!viewer) return;
    this.removeViewer(peerId, viewer);
    const reason = this.deadlines.describe(why);
    viewer.send({ type: 'share.error', code: ErrorCode.Cancelled, message: `The stream did not reach this page (${reason}); joining again.`, fatal: true });
    viewer.close(CLOSE_NOT_CONNECTED, reason);
  }

  private reportViewers(): void {
    this.sender?.send({ type: 'share.viewers', count: this.viewerCount });
  }

  private fromSender(socket: SignalSocket, text: string): void {
    if (this.sender !== socket) return;
    const message = parseShareClientMessage(socket, text);
    if (!message) return;
    switch (message.type) {
      case 'signal': {
        const viewer = message.peerId !== undefined ? this.viewers.get(message.peerId) : undefined;
        if (!viewer || message.peerId === undefined) return;
        this.deadlines.touch(message.peerId);
        viewer.send({ type: 'signal', peerId: message.peerId, data: message.data });
        return;
      }
      case 'whep.answer':
        this.deadlines.touch(message.peerId);
        this.pendingWhep.get(message.peerId)?.resolve(message.sdp);
        return;
      case 'peer.state':
        this.deadlines.report(message.peerId, message.state);
        return;
      case 'whep.error':
        this.pendingWhep.get(message.peerId)?.reject(new AppError(ErrorCode.InvalidMessage, `The WHEP offer was refused: ${message.message}`, false));
        return;
    }
  }

  private fromViewer(peerId: string, socket: SignalSocket, text: string): void {
    const message = parseShareClientMessage(socket, text);
    if (!message || message.type === 'hello') return;
    if (message.type !== 'signal') {
      socket.send({ type: 'share.error', code: ErrorCode.Unauthorized, message: 'A viewer can only send signals.', fatal: false });
      return;
    }
    if (this.viewers.get(peerId) !== socket) return;
    this.deadlines.touch(peerId);
    this.sender?.send({ type: 'signal', peerId, data: message.data });
  }
}
