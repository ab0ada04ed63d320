import SimplePeer, { type SimplePeerInstance } from 'simple-peer/simplepeer.min.js';
import { SHARE_PRESETS, type IceSettings, type SharePresetName, type ShareServerMessage } from '../../shared/share.contract';
import type { TtsPlayer } from '../audio/tts-player';
import type { SharePacking } from './alpha-pack';
import { audioHoldMs } from './capture-delay';
import { ShareCompositor } from './share-compositor';
import { wallClockMs } from './share-stamp';
import { pageConversationId } from '../transport/page-conversation';
import { SignalSocket, signalUrl } from './signal-socket';
import { tuneVideoSenders } from './video-senders';

/** `detail` keeps the resolution (a face), `motion` keeps the frame rate. */
export type ShareContentHint = 'detail' | 'motion';

export interface ShareSettings {
  preset: SharePresetName;
  contentHint: ShareContentHint;
  /** CSS colour behind the avatar (WebRTC video has no alpha): chroma green for OBS keying. */
  background: string;
  /** Draw the measurement stamps (`webrtc` bench). */
  stamp: boolean;
  /** `alpha`: colour and alpha side by side in a frame twice as wide, for a transparent viewer (alpha-pack.ts). */
  packing?: SharePacking;
  /** Where the frame is composed (share-compositor.ts); the compositor's default when unset. */
  compositorCanvas?: 'cpu' | 'gpu' | undefined;
  /** Hold the shared audio by the video's measured capture delay (default); false sends it at once (the bench's comparison). */
  holdAudio?: boolean;
  /** The audio path's lead taken off the hold (capture-delay.ts AUDIO_PATH_LEAD_MS when unset). */
  audioLeadMs?: number | undefined;
  /** Render only frames the capture can take (default `capture`) or at the scene's own rate (`free`); share-compositor.ts. */
  pacing?: 'capture' | 'free' | undefined;
}

/** What the share panel and tests see (`window.avatarShareStatus`). */
export interface ShareStatus {
  active: boolean;
  /** The signaling socket is connected. */
  signaling: boolean;
  /** Viewer pages and WHEP sessions the engine counts. */
  viewers: number;
  /** Connected peer connections. */
  connectedPeers: number;
  preset: SharePresetName | null;
  /** Sent video frame rate and bitrate, summed over peers, last second. */
  fps: number;
  bitrateKbps: number;
  framesDrawn: number;
  /** The viewer page address (watch-only token), once the engine sent it. */
  viewUrl: string | null;
  /** The remote-talk page address (talk token), when the host offers remote talk. */
  talkUrl: string | null;
  /** Stamp mode: wall-clock times at which the last clicks entered the shared audio (before the hold). */
  clickWallMs: number[];
  /** Measured draw → encoder delay of the shared video (capture-delay.ts), null until measured. */
  videoCaptureDelayMs: number | null;
  /** How long the shared audio is held so it leaves with its frames (the local speakers are not). */
  audioHoldMs: number;
  error: string | null;
}

declare global {
  interface Window {
    /** Read-only share status for tests and the overlay; replaced on every change. */
    avatarShareStatus?: Readonly<ShareStatus>;
  }
}

const IDLE: ShareStatus = {
  active: false,
  signaling: false,
  viewers: 0,
  connectedPeers: 0,
  preset: null,
  fps: 0,
  bitrateKbps: 0,
  framesDrawn: 0,
  viewUrl: null,
  talkUrl: null,
  clickWallMs: [],
  videoCaptureDelayMs: null,
  audioHoldMs: 0,
  error: null,
};

/** How long a WHEP answer may wait for ICE gathering (host candidates take milliseconds). */
const GATHER_TIMEOUT_MS = 3000;
const STATS_EVERY_MS = 1000;
const CLICK_EVERY_MS = 1000;
/** How often the audio hold follows the measured video delay, and the smallest change it makes. */
const HOLD_EVERY_MS = 500;
const HOLD_STEP_MS = 15;
/** Time constant of a hold change (a short glide, so a change is not a click). */
const HOLD_GLIDE_SEC = 0.05;

interface PeerEntry {
  pc: () => RTCPeerConnection;
  close(): void;
  /** simple-peer connections take routed signals; WHEP connections are answered once. */
  signal?: (data: unknown) => void;
  connected: boolean;
  lastBytes: number;
  lastFrames: number;
}

function waitForIceGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * Shares the avatar: the rendered canvas at the preset size and rate plus the avatar's voice, tapped
 * from the TTS player on its own AudioContext so mouth and sound leave together. One simple-peer
 * connection per viewer page, one plain RTCPeerConnection per WHEP client (they answer
 * non-trickle), all carrying the same tracks; the engine only routes signals.
 */
export class ShareSender {
  private status: ShareStatus = IDLE;
  private readonly listeners = new Set<() => void>();
  private socket: SignalSocket | null = null;
  private compositor: ShareCompositor | null = null;
  private stream: MediaStream | null = null;
  private removeAudioTap: (() => void) | null = null;
  private audioDestination: MediaStreamAudioDestinationNode | null = null;
  /** The shared voice's own branch: held by the video's capture delay before it enters the stream. */
  private audioHold: DelayNode | null = null;
  private holdTimer: ReturnType<typeof setInterval> | undefined;
  private silence: ConstantSourceNode | null = null;
  private ice: IceSettings = { iceServers: [], iceTransportPolicy: 'all' };
  private settings: ShareSettings | null = null;
  private readonly peers = new Map<string, PeerEntry>();
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private clickTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly player: TtsPlayer,
    private readonly token: string,
    private readonly canvas: () => HTMLCanvasElement | null,
    /** The share server's http origin: the page's own under `serve`, the desktop share server in Electron. */
    private readonly serverOrigin: string = window.location.origin,
  ) {
    window.avatarShareStatus = this.status;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ShareStatus => this.status;

  start(settings: ShareSettings): void {
    if (this.status.active) this.stop();
    const preset = SHARE_PRESETS[settings.preset];
    this.settings = settings;
    try {
      this.compositor = new ShareCompositor({
        source: this.canvas,
        width: preset.width,
        height: preset.height,
        fps: preset.fps,
        background: settings.background,
        stamp: settings.stamp,
        packing: settings.packing,
        canvas: settings.compositorCanvas,
        pacing: settings.pacing,
      });
    } catch (error) {
      this.update({ ...IDLE, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.compositor.track.contentHint = settings.contentHint;
    const context = this.player.context;
    this.audioDestination = context.createMediaStreamDestination();
    // The voice enters the stream through a delay set from the measured video capture delay, so it
    // does not run ahead of the frames it belongs to; the local speakers keep their own timing.
    this.audioHold = context.createDelay(audioHoldMs(Number.POSITIVE_INFINITY) / 1000 + 0.1);
    this.audioHold.connect(this.audioDestination);
    this.removeAudioTap = this.player.addOutputTap(this.audioHold);
    if (settings.holdAudio !== false) this.holdTimer = setInterval(() => this.followCaptureDelay(), HOLD_EVERY_MS);
    // Chromium does not render a destination with no live input, and then sends no audio packets at
    // all between replies; receivers (OBS, jitter buffers, A/V sync) want a steady track, so feed silence.
    this.silence = context.createConstantSource();
    this.silence.offset.value = 0;
    this.silence.connect(this.audioDestination);
    this.silence.start();
    this.stream = new MediaStream([this.compositor.track, ...this.audioDestination.stream.getAudioTracks()]);
    if (settings.stamp) this.clickTimer = setInterval(() => this.click(), CLICK_EVERY_MS);
    this.socket = new SignalSocket(signalUrl(new URL(this.serverOrigin), 'sender', this.token, pageConversationId()), {
      message: (message) => this.onMessage(message),
      status: (open) => {
        if (!open) this.closePeers();
        this.update({ signaling: open, viewers: open ? this.status.viewers : 0 });
      },
    });
    this.statsTimer = setInterval(() => void this.sampleStats(), STATS_EVERY_MS);
    this.update({ ...IDLE, active: true, preset: settings.preset, viewUrl: this.status.viewUrl, talkUrl: this.status.talkUrl });
  }

  stop(): void {
    clearInterval(this.statsTimer);
    clearInterval(this.clickTimer);
    clearInterval(this.holdTimer);
    this.closePeers();
    this.socket?.close();
    this.socket = null;
    this.removeAudioTap?.();
    this.removeAudioTap = null;
    this.silence?.stop();
    this.silence?.disconnect();
    this.silence = null;
    this.audioHold?.disconnect();
    this.audioHold = null;
    this.audioDestination?.disconnect();
    this.audioDestination = null;
    this.compositor?.dispose();
    this.compositor = null;
    this.stream = null;
    this.update({ ...IDLE, viewUrl: this.status.viewUrl, talkUrl: this.status.talkUrl });
  }

  private update(patch: Partial<ShareStatus>): void {
    this.status = { ...this.status, ...patch };
    window.avatarShareStatus = this.status;
    for (const listener of this.listeners) listener();
  }

  private rtcConfig(): RTCConfiguration {
    return { iceServers: this.ice.iceServers, iceTransportPolicy: this.ice.iceTransportPolicy };
  }

  private onMessage(message: ShareServerMessage): void {
    switch (message.type) {
      case 'share.config':
        this.ice = message.ice;
        if (message.viewToken) {
          this.update({ viewUrl: `${this.serverOrigin}/view?token=${encodeURIComponent(message.viewToken)}` });
        }
        if (message.talkToken) this.update({ talkUrl: `${this.serverOrigin}/view?token=${encodeURIComponent(message.talkToken)}&talk=1` });
        return;
      case 'peer.join':
        this.openViewerPeer(message.peerId);
        return;
      case 'peer.leave':
        this.closePeer(message.peerId);
        return;
      case 'signal': {
        this.peers.get(message.peerId)?.signal?.(message.data);
        return;
      }
      case 'whep.offer':
        void this.answerWhep(message.peerId, message.sdp);
        return;
      case 'share.viewers':
        this.update({ viewers: message.count });
        return;
      case 'share.error':
        this.update({ error: message.message });
        return;
      default:
        return;
    }
  }

  private openViewerPeer(peerId: string): void {
    this.closePeer(peerId);
    const stream = this.stream;
    if (!stream) return;
    const peer: SimplePeerInstance = new SimplePeer({ initiator: true, trickle: true, stream, config: this.rtcConfig() });
    const entry: PeerEntry = {
      pc: () => peer._pc,
      close: () => peer.destroy(),
      signal: (data: unknown) => peer.signal(data),
      connected: false,
      lastBytes: 0,
      lastFrames: 0,
    };
    this.peers.set(peerId, entry);
    peer.on('signal', (data) => this.socket?.send({ type: 'signal', peerId, data: data as never }));
    // The engine frees the viewer's place when its connection fails or never comes up.
    peer._pc.addEventListener('connectionstatechange', () => this.reportState(peerId, entry, peer._pc.connectionState));
    peer.on('connect', () => {
      entry.connected = true;
      void this.tuneSenders(peer._pc);
      this.countConnected();
    });
    // Encodings exist once the offer is set locally: tune before the first frame is encoded.
    peer._pc.addEventListener('signalingstatechange', () => void this.tuneSenders(peer._pc));
    const forget = (): void => {
      // simple-peer closes the connection itself on ICE failure, and a closed connection fires no more events.
      this.reportState(peerId, entry, 'closed');
      if (this.peers.get(peerId) === entry) this.peers.delete(peerId);
      this.countConnected();
    };
    peer.on('close', forget);
    peer.on('error', forget);
  }

  private async answerWhep(peerId: string, offerSdp: string): Promise<void> {
    const stream = this.stream;
    if (!stream) {
      this.socket?.send({ type: 'whep.error', peerId, message: 'The share is stopping.' });
      return;
    }
    const pc = new RTCPeerConnection(this.rtcConfig());
    const entry: PeerEntry = { pc: () => pc, close: () => pc.close(), connected: false, lastBytes: 0, lastFrames: 0 };
    this.closePeer(peerId);
    this.peers.set(peerId, entry);
    pc.addEventListener('connectionstatechange', () => {
      this.reportState(peerId, entry, pc.connectionState);
      entry.connected = pc.connectionState === 'connected';
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.peers.delete(peerId);
      this.countConnected();
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      // The client's recvonly m-lines became our transceivers: send our tracks on them.
      for (const transceiver of pc.getTransceivers()) {
        const track = stream.getTracks().find((candidate) => candidate.kind === transceiver.receiver.track.kind);
        if (!track) continue;
        await transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams(stream);
        transceiver.direction = 'sendonly';
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await this.tuneSenders(pc);
      await waitForIceGathering(pc, GATHER_TIMEOUT_MS);
      this.socket?.send({ type: 'whep.answer', peerId, sdp: pc.localDescription!.sdp });
    } catch (error) {
      this.closePeer(peerId);
      this.socket?.send({ type: 'whep.error', peerId, message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Bitrate ceiling, frame rate and what to give up under pressure (resolution for `motion`, rate for `detail`). */
  private async tuneSenders(pc: RTCPeerConnection): Promise<void> {
    const settings = this.settings;
    if (!settings) return;
    await tuneVideoSenders(pc, settings.preset, settings.contentHint === 'detail' ? 'maintain-resolution' : 'maintain-framerate');
  }

  /** Tells the engine how a peer's connection is doing (it holds a place only for connected peers). */
  private reportState(peerId: string, entry: PeerEntry, state: RTCPeerConnectionState): void {
    if (this.peers.get(peerId) === entry) this.socket?.send({ type: 'peer.state', peerId, state });
  }

  private countConnected(): void {
    this.update({ connectedPeers: [...this.peers.values()].filter((entry) => entry.connected).length });
  }

  private closePeer(peerId: string): void {
    const entry = this.peers.get(peerId);
    if (!entry) return;
    this.peers.delete(peerId);
    entry.close();
    this.countConnected();
  }

  private closePeers(): void {
    for (const peerId of [...this.peers.keys()]) this.closePeer(peerId);
  }

  private async sampleStats(): Promise<void> {
    let bytes = 0;
    let fps = 0;
    for (const entry of this.peers.values()) {
      if (!entry.connected) continue;
      const report = await entry.pc().getStats();
      report.forEach((stats: { type: string; kind?: string; bytesSent?: number; framesEncoded?: number }) => {
        if (stats.type !== 'outbound-rtp' || stats.kind !== 'video') return;
        bytes += (stats.bytesSent ?? 0) - entry.lastBytes;
        fps = Math.max(fps, (stats.framesEncoded ?? 0) - entry.lastFrames);
        entry.lastBytes = stats.bytesSent ?? 0;
        entry.lastFrames = stats.framesEncoded ?? 0;
      });
    }
    this.update({
      fps: Math.round((fps * 1000) / STATS_EVERY_MS),
      bitrateKbps: Math.round((bytes * 8) / STATS_EVERY_MS),
      framesDrawn: this.compositor?.frames ?? 0,
    });
  }

  /** Moves the shared audio's hold to the video's measured capture delay (in steps, with a short glide). */
  private followCaptureDelay(): void {
    const hold = this.audioHold;
    if (!hold) return;
    const measuredMs = this.compositor?.captureDelayMs ?? null;
    const targetMs = audioHoldMs(measuredMs, this.settings?.audioLeadMs);
    if (Math.abs(targetMs - this.status.audioHoldMs) >= HOLD_STEP_MS) {
      hold.delayTime.setTargetAtTime(targetMs / 1000, hold.context.currentTime, HOLD_GLIDE_SEC);
      this.update({ audioHoldMs: targetMs, videoCaptureDelayMs: measuredMs });
    } else if (measuredMs !== this.status.videoCaptureDelayMs) {
      this.update({ videoCaptureDelayMs: measuredMs });
    }
  }

  /**
   * Stamp mode: a short click on the shared audio only (not the speakers), with the wall-clock time
   * it enters the stream, so a receiver can compare audio latency with the stamped video's.
   */
  private click(): void {
    // The click stands for the voice: it takes the voice's branch, hold included.
    const destination = this.audioHold;
    if (!destination) return;
    const context = this.player.context;
    const atSec = context.currentTime + 0.05;
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 2000;
    gain.gain.value = 0.8;
    oscillator.connect(gain).connect(destination);
    oscillator.start(atSec);
    oscillator.stop(atSec + 0.03);
    oscillator.onended = () => gain.disconnect();
    const atWallMs = wallClockMs() + (atSec - context.currentTime) * 1000;
    this.update({ clickWallMs: [...this.status.clickWallMs.slice(-31), atWallMs] });
  }
}
