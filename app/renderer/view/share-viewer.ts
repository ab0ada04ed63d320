import SimplePeer, { type SimplePeerInstance } from 'simple-peer/simplepeer.min.js';
import type { IceSettings, ShareServerMessage } from '../../shared/share.contract';
import { SignalSocket } from '../share/signal-socket';

/** What the viewer page is doing, for tests and OBS debugging (`window.avatarViewerStatus`). */
export interface ViewerStatus {
  state: 'connecting' | 'waiting' | 'negotiating' | 'playing';
  /** Streams received since the page opened (a new one after every sender restart). */
  streams: number;
  error: string | null;
}

/** Remote talk (`&talk=1`): the viewer's microphone goes to the avatar, captions come back. */
export interface ViewerTalkOptions {
  microphone?: MediaStream;
  /**
   * The video the talker sends on the same peer connection: its camera while the talker has it on,
   * else a blank track that sends no frames (so turning the camera on needs no renegotiation, only
   * `setVideoTrack`). Absent: no video goes back.
   */
  video?: () => MediaStreamTrack;
  /** The data channel opened (the talker re-sends its camera state on every new connection). */
  onConnect?: () => void;
  /** Text from the sender's data channel (remote talk captions). */
  onData?: (text: string) => void;
  /** A refusal from the engine (busy) or null once a stream plays, for the talker to read. */
  onError?: (message: string | null) => void;
}

declare global {
  interface Window {
    avatarViewerStatus?: Readonly<ViewerStatus>;
  }
}

/**
 * The viewer side: joins the share through the signaling socket, answers the sender's offer with
 * simple-peer and plays what arrives. It heals by itself: when the sender leaves it waits for the
 * next one; when its own connection fails it rejoins with a fresh peer.
 */
export class ShareViewer {
  private peer: SimplePeerInstance | null = null;
  private ice: IceSettings = { iceServers: [], iceTransportPolicy: 'all' };
  private status: ViewerStatus = { state: 'connecting', streams: 0, error: null };
  private readonly socket: SignalSocket;

  constructor(
    url: string,
    private readonly video: HTMLVideoElement,
    private readonly talk: ViewerTalkOptions = {},
  ) {
    this.publish({});
    this.socket = new SignalSocket(url, {
      message: (message) => this.onMessage(message),
      status: (open) => {
        if (!open) this.dropPeer();
        this.publish({ state: open ? 'waiting' : 'connecting' });
      },
    });
  }

  private publish(patch: Partial<ViewerStatus>): void {
    this.status = { ...this.status, ...patch };
    window.avatarViewerStatus = this.status;
  }

  private onMessage(message: ShareServerMessage): void {
    switch (message.type) {
      case 'share.config':
        this.ice = message.ice;
        return;
      case 'sender.left':
        this.dropPeer();
        this.publish({ state: 'waiting' });
        return;
      case 'signal':
        // Every new offer comes from a new sender connection: start a fresh peer for it.
        if (message.data.type === 'offer' || !this.peer) this.newPeer();
        this.peer?.signal(message.data);
        return;
      case 'share.error':
        this.publish({ error: message.message });
        this.talk.onError?.(message.message);
        return;
      default:
        return;
    }
  }

  private newPeer(): void {
    this.dropPeer();
    const video = this.talk.video?.();
    const outgoing = this.talk.microphone || video ? new MediaStream([...(this.talk.microphone?.getTracks() ?? []), ...(video ? [video] : [])]) : undefined;
    const peer = new SimplePeer({
      initiator: false,
      trickle: true,
      stream: outgoing,
      config: { iceServers: this.ice.iceServers, iceTransportPolicy: this.ice.iceTransportPolicy },
    });
    this.peer = peer;
    const onData = this.talk.onData;
    if (onData) peer.on('data', (data) => onData(typeof data === 'string' ? data : new TextDecoder().decode(data)));
    const onConnect = this.talk.onConnect;
    if (onConnect) peer.on('connect', () => onConnect());
    this.publish({ state: 'negotiating', error: null });
    peer.on('signal', (data) => this.socket.send({ type: 'signal', data: data as never }));
    peer.on('stream', (stream) => {
      this.video.srcObject = stream;
      this.publish({ state: 'playing', streams: this.status.streams + 1 });
      this.talk.onError?.(null);
      // Autoplay with sound can be refused outside OBS: then play muted rather than not at all.
      this.video.play().catch(() => {
        this.video.muted = true;
        void this.video.play();
      });
    });
    const failed = (): void => {
      if (this.peer !== peer) return;
      this.dropPeer();
      // A fresh join gets a fresh connection from the sender.
      this.socket.reconnect();
    };
    peer.on('close', failed);
    peer.on('error', failed);
  }

  /** Text to the sender on the data channel (dropped while no connection is up). */
  send(text: string): void {
    if (this.peer?.connected) this.peer.send(text);
  }

  /** Swaps the video the talker sends (camera ↔ blank) on the live connection, without renegotiating. */
  async setVideoTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.peer?._pc.getSenders().find((candidate) => candidate.track?.kind === 'video');
    await sender?.replaceTrack(track);
  }

  private dropPeer(): void {
    const peer = this.peer;
    this.peer = null;
    peer?.destroy();
    this.video.srcObject = null;
  }
}
