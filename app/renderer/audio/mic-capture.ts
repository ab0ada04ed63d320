import { frameLevel } from '../../shared/audio/pcm';
import { ErrorCode } from '../../shared/errors.contract';
import type { ClientMessage } from '../../shared/messages.contract';
import { MicMode } from '../../shared/settings.contract';
import type { MicDiagnostics } from '../state/diagnostics';
import workletUrl from './mic-capture.worklet.ts?worker&url';
import type { MicWorkletFrame } from './mic-capture.worklet';
import { MIC_CAPTURE_PROCESSOR, MIC_FRAME_SAMPLES, MIC_SAMPLE_RATE_HZ } from './mic-resampler';

export interface MicDevice {
  deviceId: string;
  label: string;
}

/** What the mic controls show; changes only on user actions and device events (never per frame). */
export interface MicStatus {
  active: boolean;
  starting: boolean;
  muted: boolean;
  mode: MicMode;
  /** Push-to-talk key held. */
  talking: boolean;
  deviceId: string | null;
  devices: readonly MicDevice[];
}

/** Where frames and errors go: the engine client and the conversation's error banner. */
export interface MicSink {
  sessionId(): string | null;
  send(message: Extract<ClientMessage, { type: 'mic.audio' }>): void;
  error(code: ErrorCode, message: string): void;
}


/** Words for a getUserMedia / AudioWorklet failure. */
export function describeMicError(error: unknown): string {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone access was denied. Allow the microphone for this page (site settings) and press the mic button again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Connect one (or pick another device) and press the mic button again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone could not be opened; another application may be using it.';
    default:
      return `The microphone could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

interface Capture {
  stream: MediaStream;
  context: AudioContext;
  node: AudioWorkletNode;
  source: MediaStreamAudioSourceNode;
}

/**
 * Microphone capture: getUserMedia (echo cancellation, noise suppression, AGC) → AudioWorklet
 * (mono, 16 kHz, 20 ms frames) → `mic.audio` messages with increasing seq. While muted, or in
 * push-to-talk mode with the key up, frames are still sent but silent, so the engine's endpointing
 * closes an utterance cut off by the mute.
 */
export class MicCapture {
  private status: MicStatus = { active: false, starting: false, muted: false, mode: MicMode.HandsFree, talking: false, deviceId: null, devices: [] };
  private readonly listeners = new Set<() => void>();
  private capture: Capture | null = null;
  /** Bumped by every start/stop so a slow start that was overtaken cleans up after itself. */
  private generation = 0;
  private seq = 0;
  private sent = 0;
  private currentLevel = 0;

  constructor(
    private readonly sink: MicSink,
    private readonly media: () => MediaDevices | undefined = () => navigator.mediaDevices,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): MicStatus => this.status;

  /** Level of the last frame (for the meter, read on animation frames). */
  get level(): number {
    return this.currentLevel;
  }

  diagnostics(): MicDiagnostics {
    return { active: this.status.active, level: Math.round(this.currentLevel * 1000) / 1000, framesSent: this.sent };
  }

  /**
   * Starts capturing (no-op while active or starting); errors go to the sink in words. `given`
   * takes the place of getUserMedia: a remote talker's track in a pooled renderer.
   */
  async start(given?: MediaStream): Promise<void> {
    if (this.status.active || this.status.starting) return;
    const media = this.media();
    if (!given && !media?.getUserMedia) {
      this.sink.error(ErrorCode.BadAudio, 'Microphone capture is not available in this page (it needs a secure context such as localhost).');
      return;
    }
    const generation = ++this.generation;
    this.update({ starting: true });
    let stream: MediaStream | null = null;
    let context: AudioContext | null = null;
    try {
      const deviceId = this.status.deviceId;
      stream =
        given ??
        (await media!.getUserMedia({
          audio: {
            echoCancellation: true,
            noiseSuppression: true,
            autoGainControl: true,
            channelCount: 1,
            ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
          },
        }));
      context = new AudioContext({ latencyHint: 'interactive' });
      await context.audioWorklet.addModule(workletUrl);
      if (generation !== this.generation) throw new DOMException('superseded', 'AbortError');
      const source = context.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(context, MIC_CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
      node.port.onmessage = (event: MessageEvent<MicWorkletFrame>) => this.acceptFrame(event.data.pcm);
      source.connect(node);
      void context.resume();
      for (const track of stream.getAudioTracks()) {
        track.addEventListener('ended', () => {
          if (this.capture?.stream !== stream) return;
          this.stop();
          this.sink.error(ErrorCode.BadAudio, 'The microphone was disconnected.');
        });
      }
      this.capture = { stream, context, node, source };
      const settings = stream.getAudioTracks()[0]?.getSettings();
      this.update({ active: true, starting: false, deviceId: settings?.deviceId ?? deviceId });
      void this.refreshDevices();
    } catch (error) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      void context?.close();
      if (generation !== this.generation) return;
      this.update({ starting: false });
      this.sink.error(ErrorCode.BadAudio, describeMicError(error));
    }
  }

  stop(): void {
    this.generation += 1;
    const capture = this.capture;
    this.capture = null;
    if (capture) {
      capture.node.port.onmessage = null;
      capture.source.disconnect();
      for (const track of capture.stream.getTracks()) track.stop();
      void capture.context.close();
    }
    this.currentLevel = 0;
    this.update({ active: false, starting: false, talking: false });
  }

  toggle(): void {
    if (this.status.active || this.status.starting) this.stop();
    else void this.start();
  }

  setMuted(muted: boolean): void {
    this.update({ muted });
  }

  setMode(mode: MicMode): void {
    this.update({ mode, talking: false });
  }

  /** Push-to-talk key down/up. */
  setTalking(talking: boolean): void {
    if (talking !== this.status.talking) this.update({ talking });
  }

  /** Picks the input device; an active capture restarts on it. */
  selectDevice(deviceId: string | null): void {
    this.update({ deviceId });
    if (this.status.active || this.status.starting) {
      this.stop();
      void this.start();
    }
  }

  /** Lists audio inputs (labels appear once permission has been granted). */
  async refreshDevices(): Promise<void> {
    const media = this.media();
    if (!media?.enumerateDevices) return;
    try {
      const all = await media.enumerateDevices();
      const devices = all
        .filter((device) => device.kind === 'audioinput' && device.deviceId !== '')
        .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `Microphone ${index + 1}` }));
      this.update({ devices });
    } catch {
      // Listing is a convenience; capture works with the default device.
    }
  }

  /** Whether the engine should hear the microphone now. */
  get transmitting(): boolean {
    const { active, muted, mode, talking } = this.status;
    return active && !muted && (mode === MicMode.HandsFree || talking);
  }

  /** One 16 kHz frame from the worklet: gated, metered, sent. */
  acceptFrame(pcm: Float32Array<ArrayBuffer>): void {
    if (pcm.length !== MIC_FRAME_SAMPLES) return;
    if (!this.transmitting) pcm.fill(0);
    this.currentLevel = frameLevel(pcm);
    const sessionId = this.sink.sessionId();
    if (!sessionId) return;
    this.sink.send({ type: 'mic.audio', sessionId, seq: this.seq++, sampleRateHz: MIC_SAMPLE_RATE_HZ, pcm });
    this.sent += 1;
  }

  private update(patch: Partial<MicStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.listeners) listener();
  }
}
