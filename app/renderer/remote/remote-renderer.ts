import SimplePeer, { type SimplePeerInstance } from 'simple-peer/simplepeer.min.js';
import type { ServerMessage } from '../../shared/messages.contract';
import { SHARE_PRESETS, TalkerMessageSchema, type IceSettings, type RemoteCaption, type SharePresetName, type ShareServerMessage } from '../../shared/share.contract';
import { MicCapture } from '../audio/mic-capture';
import { ShareCompositor } from '../share/share-compositor';
import { SignalSocket, signalUrl } from '../share/signal-socket';
import { tuneVideoSenders } from '../share/video-senders';
import type { Runtime } from '../state/runtime';

/** What a pooled renderer is doing (`window.avatarRemoteStatus`, for tests and serve's pages). */
export interface RemoteRendererStatus {
  /** `warming` until the avatar draws and a fresh engine session is open; `ready` is leasable. */
  state: 'warming' | 'ready' | 'talking';
  signaling: boolean;
  /** The talker this renderer is leased to. */
  talkerId: string | null;
  /** The engine session serving the current (or next) talker. */
  sessionId: string | null;
  /** Conversations served since the page loaded. */
  talks: number;
  error: string | null;
}

declare global {
  interface Window {
    avatarRemoteStatus?: Readonly<RemoteRendererStatus>;
  }
}

export interface RemoteRendererOptions {
  runtime: Runtime;
  /** The app token (pooled renderers register with it). */
  token: string;
  /** The avatar's WebGL canvas. */
  canvas: () => HTMLCanvasElement | null;
  preset: SharePresetName;
  /** CSS colour behind the avatar in the video. */
  background: string;
}

const READY_POLL_MS = 200;

interface Talk {
  talkerId: string;
  peer: SimplePeerInstance;
  /** Keeps the remote track flowing into WebAudio (Chromium feeds a remote track to an AudioContext only while a media element plays it). */
  sink: HTMLAudioElement | null;
  replies: Map<string, string>;
  /** The talker's stream (microphone, and the video track that carries its camera when on). */
  remote: MediaStream | null;
  /** The talker turned its camera on (`talker.camera`). */
  camera: boolean;
}

/**
 * A pooled renderer for two-way remote conversations. It is warm before anyone calls: the avatar is
 * drawn, the share's video (compositor) and the voice tap exist, and an engine session is open.
 * The remote-talk hub leases it to one talker at a time: the page offers its avatar stream, takes
 * the talker's microphone track as its own microphone (same AudioWorklet → 16 kHz frames → engine
 * path as a local mic, so endpointing and barge-in work unchanged), and sends captions on the data
 * channel. When the talker leaves, it closes that engine session and opens a fresh one, so the
 * next talker shares nothing with the last, then reports ready again.
 */
export class RemoteRenderer {
  private status: RemoteRendererStatus = { state: 'warming', signaling: false, talkerId: null, sessionId: null, talks: 0, error: null };
  private readonly compositor: ShareCompositor;
  private readonly audioDestination: MediaStreamAudioDestinationNode;
  private readonly removeAudioTap: () => void;
  private readonly stream: MediaStream;
  private readonly mic: MicCapture;
  private readonly socket: SignalSocket;
  private readonly removeEngineListener: () => void;
  private readonly removeVisionListener: () => void;
  /** The last `remote.vision` sent to the talker (sent again only when it changes). */
  private lastVision = '';
  private readonly readyTimer: ReturnType<typeof setInterval>;
  private ice: IceSettings = { iceServers: [], iceTransportPolicy: 'all' };
  private talk: Talk | null = null;
  /** A session closed by a reset: the next ready needs a different one. */
  private staleSessionId: string | null = null;

  constructor(private readonly options: RemoteRendererOptions) {
    const { runtime } = options;
    const preset = SHARE_PRESETS[options.preset];
    this.compositor = new ShareCompositor({ source: options.canvas, width: preset.width, height: preset.height, fps: preset.fps, background: options.background, stamp: false });
    this.compositor.track.contentHint = 'detail';
    this.audioDestination = runtime.player.context.createMediaStreamDestination();
    this.removeAudioTap = runtime.player.addOutputTap(this.audioDestination);
    this.stream = new MediaStream([this.compositor.track, ...this.audioDestination.stream.getAudioTracks()]);
    this.mic = new MicCapture({
      // Frames reach the engine only while a talker is connected.
      sessionId: () => (this.talk ? runtime.store.getSnapshot().sessionId : null),
      send: (message) => runtime.client.send(message),
      error: (code, message) => {
        runtime.store.addError(code, message);
        this.update({ error: message });
      },
    });
    this.removeEngineListener = runtime.client.onMessage((message) => this.onEngineMessage(message));
    this.removeVisionListener = runtime.vision.subscribe(() => this.reportVision());
    this.socket = new SignalSocket(signalUrl(window.location, 'renderer', options.token), {
      message: (message) => this.onSignal(message),
      status: (open) => {
        // A new registration starts warming: the hub leases it only after `renderer.ready`.
        if (!open) this.endTalk();
        this.update({ signaling: open, state: this.talk ? 'talking' : 'warming' });
      },
    });
    this.readyTimer = setInterval(() => this.reportReadyWhenWarm(), READY_POLL_MS);
    this.publish();
  }

  dispose(): void {
    clearInterval(this.readyTimer);
    this.endTalk();
    this.socket.close();
    this.removeEngineListener();
    this.removeVisionListener();
    this.removeAudioTap();
    this.audioDestination.disconnect();
    this.compositor.dispose();
  }

  private update(patch: Partial<RemoteRendererStatus>): void {
    this.status = { ...this.status, ...patch };
    this.publish();
  }

  private publish(): void {
    window.avatarRemoteStatus = this.status;
  }

  private reportReadyWhenWarm(): void {
    if (this.status.state !== 'warming' || !this.socket.isOpen) return;
    const snapshot = this.options.runtime.store.getSnapshot();
    const drawn = (window.avatarDiagnostics?.frame ?? 0) > 0 && this.compositor.frames > 0;
    const fresh = snapshot.sessionId !== null && snapshot.sessionId !== this.staleSessionId;
    if (!drawn || !fresh || !snapshot.engineReady) return;
    this.socket.send({ type: 'renderer.ready' });
    this.update({ state: 'ready', sessionId: snapshot.sessionId });
  }

  private onSignal(message: ShareServerMessage): void {
    switch (message.type) {
      case 'share.config':
        this.ice = message.ice;
        return;
      case 'peer.join':
        this.beginTalk(message.peerId);
        return;
      case 'peer.leave':
        if (this.talk?.talkerId === message.peerId) this.endTalk();
        return;
      case 'signal':
        if (this.talk?.talkerId === message.peerId) this.talk.peer.signal(message.data);
        return;
      case 'share.error':
        this.update({ error: message.message });
        return;
      default:
        return;
    }
  }

  private beginTalk(talkerId: string): void {
    this.endTalk();
    const peer = new SimplePeer({
      initiator: true,
      trickle: true,
      stream: this.stream,
      config: { iceServers: this.ice.iceServers, iceTransportPolicy: this.ice.iceTransportPolicy },
    });
    const talk: Talk = { talkerId, peer, sink: null, replies: new Map(), remote: null, camera: false };
    this.talk = talk;
    this.update({ state: 'talking', talkerId, talks: this.status.talks + 1, error: null });
    this.options.runtime.player.resume();
    peer.on('signal', (data) => this.socket.send({ type: 'signal', peerId: talkerId, data: data as never }));
    // The hub leases this renderer to the talker only while their connection is up.
    peer._pc.addEventListener('connectionstatechange', () => {
      if (this.talk === talk) this.socket.send({ type: 'peer.state', peerId: talkerId, state: peer._pc.connectionState });
    });
    // Keep the face sharp: resolution over frame rate, and a bitrate ceiling that allows it.
    peer._pc.addEventListener('signalingstatechange', () => void tuneVideoSenders(peer._pc, this.options.preset, 'maintain-resolution'));
    peer.on('stream', (remote) => this.hear(talk, remote));
    peer.on('data', (data) => this.onTalkerData(talk, typeof data === 'string' ? data : new TextDecoder().decode(data)));
    peer.on('connect', () => {
      const sessionId = this.options.runtime.store.getSnapshot().sessionId;
      if (sessionId) this.caption({ type: 'remote.session', sessionId });
    });
    // A failed connection ends from the talker's side (it rejoins), and the hub then sends peer.leave.
    peer.on('error', (error) => this.update({ error: `The connection to the remote talker failed: ${error.message}` }));
    // simple-peer closes the connection itself on ICE failure, and a closed connection fires no more events.
    peer.on('close', () => {
      if (this.talk === talk) this.socket.send({ type: 'peer.state', peerId: talkerId, state: 'closed' });
    });
  }

  /** The talker's microphone becomes this page's microphone (and its camera, once turned on, this page's camera). */
  private hear(talk: Talk, remote: MediaStream): void {
    if (this.talk !== talk) return;
    talk.remote = remote;
    if (talk.camera) this.watchCamera(talk);
    if (remote.getAudioTracks().length === 0) return;
    const sink = new Audio();
    sink.muted = true;
    sink.srcObject = remote;
    void sink.play().catch(() => undefined);
    talk.sink = sink;
    void this.mic.start(remote);
  }

  /** A message from the talker's page: its camera on or off (opt-in there). */
  private onTalkerData(talk: Talk, text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const message = TalkerMessageSchema.safeParse(raw);
    if (!message.success || this.talk !== talk) return;
    talk.camera = message.data.on;
    if (talk.camera) this.watchCamera(talk);
    else this.options.runtime.vision.stop();
  }

  /** The perception loop watches the talker's video track (frames stay in this page; nothing is stored). */
  private watchCamera(talk: Talk): void {
    if (!talk.remote || talk.remote.getVideoTracks().length === 0) return;
    void this.options.runtime.vision.watch(talk.remote);
  }

  /** Tells the talker what the avatar makes of its camera, when that changes. */
  private reportVision(): void {
    const snapshot = this.options.runtime.vision.getSnapshot();
    const caption: RemoteCaption = { type: 'remote.vision', watching: snapshot.active, present: snapshot.last?.present ?? false, faces: snapshot.last?.faces ?? 0 };
    const key = JSON.stringify(caption);
    if (key === this.lastVision || !this.talk?.peer.connected) return;
    this.lastVision = key;
    this.caption(caption);
  }

  /** Ends the current talk and resets for the next: new engine session, no playback left over. */
  private endTalk(): void {
    const talk = this.talk;
    if (!talk) return;
    this.talk = null;
    // The talker's camera goes with the talker.
    this.options.runtime.vision.stop();
    this.lastVision = '';
    talk.peer.destroy();
    this.mic.stop();
    if (talk.sink) talk.sink.srcObject = null;
    const { runtime } = this.options;
    const snapshot = runtime.store.getSnapshot();
    if (snapshot.activeTurnId) runtime.player.stop(snapshot.activeTurnId);
    this.staleSessionId = snapshot.sessionId;
    if (snapshot.sessionId) runtime.client.send({ type: 'session.close', sessionId: snapshot.sessionId });
    const requestId = crypto.randomUUID();
    runtime.store.expectSession(requestId);
    runtime.client.send({ type: 'session.open', requestId, conversation: 'none' });
    this.update({ state: 'warming', talkerId: null, sessionId: null });
  }

  /** The current talk's conversation as captions on the data channel. */
  private onEngineMessage(message: ServerMessage): void {
    const talk = this.talk;
    if (!talk || !('sessionId' in message) || message.sessionId !== this.options.runtime.store.getSnapshot().sessionId) return;
    switch (message.type) {
      case 'transcript':
        this.caption({ type: 'caption.heard', turnId: message.turnId, text: message.text.slice(0, 8000), final: message.final });
        return;
      case 'reply.delta': {
        const text = (talk.replies.get(message.turnId) ?? '') + message.text;
        talk.replies.set(message.turnId, text);
        this.caption({ type: 'caption.reply', turnId: message.turnId, text: text.slice(-8000) });
        return;
      }
      case 'turn.stop':
        // A barge-in during playback comes after the turn ended (generation was already done).
        this.caption({ type: 'caption.stopped', turnId: message.turnId, reason: message.reason });
        return;
      case 'turn.ended':
        this.caption({ type: 'caption.ended', turnId: message.turnId, status: message.status, heardText: message.heardText.slice(0, 8000) });
        talk.replies.delete(message.turnId);
        return;
      default:
        return;
    }
  }

  private caption(caption: RemoteCaption): void {
    const peer = this.talk?.peer;
    if (peer?.connected) peer.send(JSON.stringify(caption));
  }
}
