import type { PeerConnectionState } from '../../shared/share.contract';

/** A peer must be connected within this long of getting its slot (and again after a disconnection). */
export const DEFAULT_PEER_CONNECT_TIMEOUT_MS = 30_000;

/** Why a peer lost its slot: it never (re)connected in time, or its connection failed or closed. */
export type PeerExpiry = 'not-connected' | 'failed';

interface Watched {
  /** The offering page has reported this peer's state at least once: from then on its reports decide. */
  reported: boolean;
  connected: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * When a WebRTC peer's slot (a viewer place, a WHEP session, a leased renderer) ends. The page that
 * offers the stream reports each peer's connection state: a `connected` peer keeps its slot,
 * `failed` or `closed` ends it at once, and a peer that is not connected — not yet, or no longer —
 * has `timeoutMs` to (re)connect. Until the first report, activity for the peer (signals, requests)
 * renews that timeout, so a peer the page never reports on still ends once it goes quiet.
 */
export class PeerDeadlines {
  private readonly peers = new Map<string, Watched>();

  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (peerId: string, why: PeerExpiry) => void,
  ) {}

  /** Peers being watched. */
  get size(): number {
    return this.peers.size;
  }

  /** Starts the clock for a peer that was just given its slot. */
  watch(peerId: string): void {
    this.forget(peerId);
    const watched: Watched = { reported: false, connected: false, timer: undefined };
    this.peers.set(peerId, watched);
    this.arm(peerId, watched);
  }

  /** Activity for a peer: renews its timeout unless the page reports on it (then the reports decide). */
  touch(peerId: string): void {
    const watched = this.peers.get(peerId);
    if (watched && !watched.reported) this.arm(peerId, watched);
  }

  /** A connection state the offering page reported; false for a peer not watched here. */
  report(peerId: string, state: PeerConnectionState): boolean {
    const watched = this.peers.get(peerId);
    if (!watched) return false;
    watched.reported = true;
    watched.connected = state === 'connected';
    if (state === 'failed' || state === 'closed') {
      this.forget(peerId);
      this.expire(peerId, 'failed');
    } else if (watched.connected) {
      clearTimeout(watched.timer);
      watched.timer = undefined;
    } else if (watched.timer === undefined) {
      // Not connected (yet, or any more): the clock runs, and further reports do not restart it.
      this.arm(peerId, watched);
    }
    return true;
  }

  /** True while the page reports the peer connected. */
  isConnected(peerId: string): boolean {
    return this.peers.get(peerId)?.connected ?? false;
  }

  /** Stops watching a peer (its slot ended some other way). */
  forget(peerId: string): void {
    const watched = this.peers.get(peerId);
    if (!watched) return;
    clearTimeout(watched.timer);
    this.peers.delete(peerId);
  }

  clear(): void {
    for (const peerId of [...this.peers.keys()]) this.forget(peerId);
  }

  /** The words a page and a close reason give for an expiry. */
  describe(why: PeerExpiry): string {
    if (why === 'failed') return 'the WebRTC connection failed or closed';
    return `no WebRTC connection within ${this.timeoutMs >= 1000 ? `${Math.round(this.timeoutMs / 1000)} s` : `${this.timeoutMs} ms`}`;
  }

  private arm(peerId: string, watched: Watched): void {
    clearTimeout(watched.timer);
    watched.timer = setTimeout(() => {
      if (this.peers.get(peerId) !== watched) return;
      this.peers.delete(peerId);
      this.expire(peerId, 'not-connected');
    }, this.timeoutMs);
    watched.timer.unref?.();
  }
}
