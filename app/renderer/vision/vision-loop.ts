import type { ClientMessage } from '../../shared/messages.contract';
import {
  summarizeVision,
  VisionWorkerReplySchema,
  type VisionBackend,
  type VisionState,
  type VisionSummary,
  type VisionWorkerRequest,
} from '../../shared/vision.contract';
import { eyeContactTarget, nextFrameDelayMs, PalmStop, PresenceTracker, WaveRecognizer, type LookTarget } from './vision-behaviour';
import type { VisionHoldReason } from './vision-hold';

/** Where the models are, next to the page (scripts/vite-vision-models.ts copies them into the build). */
const MODELS_URL = new URL('vision-models/', window.location.href).href;
/** Longest side of the frames handed to the worker (the face detector works on 256 px anyway). */
const FRAME_MAX_SIDE_PX = 640;
/** How often a held loop (no video yet, or a turn before its first audio) looks again. */
const HOLD_RECHECK_MS = 100;
/** The engine hears the summary when it changes, and at least this often while the camera is on. */
const SUMMARY_REFRESH_MS = 5_000;

export type VisionStatus = 'off' | 'loading' | 'ready' | 'error';

/** What the page shows and the diagnostics report about the camera. */
export interface VisionSnapshot {
  /** The camera is on (the indicator shows). */
  active: boolean;
  status: VisionStatus;
  /** Model load progress, 0..1. */
  loadProgress: number;
  backend: string | null;
  loadMs: number | null;
  /** Frames the worker has analysed since the page opened. */
  framesProcessed: number;
  last: VisionState | null;
  /** Greeting turns the engine started (turn.started, source camera). */
  greetingTurns: number;
  /** Replies a raised palm stopped. */
  palmStops: number;
  /** Waves recognised (each answered with a greeting when the avatar was silent). */
  waves: number;
  /** Why the loop holds now (a turn has begun; see vision-hold.ts), null while it may look. */
  held: VisionHoldReason | null;
  /** Holds begun since the page opened. */
  holds: number;
  /** Frames a hold cut short while the camera was on (stages dropped, or the frame not looked at). */
  framesCut: number;
  error: string | null;
}

/** What the loop needs from the page. */
export interface VisionHooks {
  /** The page's session; null before one is open. */
  sessionId(): string | null;
  send(message: ClientMessage): void;
  /** The turn whose reply is audible now; null while the avatar is silent. */
  speakingTurnId(): string | null;
  /** A reply is on its way or playing (the loop slows down to leave the CPU to it). */
  inReply(): boolean;
  /**
   * Why the loop must leave the CPU to a turn now (the user types or speaks, or a reply is on its
   * way but not audible yet), null when it may look: no new frame is taken, and the frame in
   * progress stops after its current stage (first audio comes first).
   */
  holdReason(): VisionHoldReason | null;
  /** Stops the avatar's reply (as the Stop button does). */
  stopReply(): void;
  /** Whether someone's arrival gets a greeting (setting). */
  greetOnArrival(): boolean;
}

const INITIAL: VisionSnapshot = {
  active: false,
  status: 'off',
  loadProgress: 0,
  backend: null,
  loadMs: null,
  framesProcessed: 0,
  last: null,
  greetingTurns: 0,
  palmStops: 0,
  waves: 0,
  held: null,
  holds: 0,
  framesCut: 0,
  error: null,
};

/** How long someone must be gone before their return counts as an arrival. */
export const ARRIVAL_MIN_ABSENCE_MS = 3_000;

/**
 * The camera and the perception loop: off until `start`; frames go from a <video> of the camera to
 * the perception worker as transferred ImageBitmaps, one at a time, at an adaptive rate. Nothing
 * leaves the page but a few words of summary (`vision.summary`) and the arrival of someone
 * (`vision.arrival`); no frame is stored.
 */
export class VisionLoop {
  private state: VisionSnapshot = INITIAL;
  private readonly listeners = new Set<() => void>();
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private stream: MediaStream | null = null;
  /** The page opened the camera (its tracks stop with the loop), rather than watching a remote one. */
  private ownsStream = true;
  private video: HTMLVideoElement | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  /** What the worker was last told: held (drop the rest of a frame) or not. */
  private workerHeld = false;
  /** While held: the next look at whether the hold is over (also while a frame is in flight). */
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly presence = new PresenceTracker(ARRIVAL_MIN_ABSENCE_MS);
  private readonly palm = new PalmStop();
  private readonly wave = new WaveRecognizer();
  private lastResultAtMs: number | null = null;
  private resultIntervalMs = 0;
  private lastSummary = '';
  private lastSummaryAtMs = 0;
  /** Where the avatar should look (the main face), null when nobody is seen or the camera is off. */
  lookTarget: LookTarget | null = null;
  /** The person smiles now (the avatar smiles back). */
  smiling = false;
  /** Incremented on every start/stop: a frame or a camera that arrives late for an earlier run is dropped. */
  private run = 0;

  constructor(
    private readonly hooks: VisionHooks,
    private readonly backend: VisionBackend = 'auto',
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): VisionSnapshot => this.state;

  /** The engine started a turn: a greeting one is counted (tests and diagnostics read it). */
  noteTurnStarted(source: string): void {
    if (source === 'camera') this.set({ greetingTurns: this.state.greetingTurns + 1 });
  }

  /** Turns the camera on (`deviceId` null: the system's default camera) and the loop with it. */
  async start(deviceId: string | null): Promise<void> {
    await this.begin(
      () =>
        navigator.mediaDevices.getUserMedia({
          video: { ...(deviceId ? { deviceId: { exact: deviceId } } : {}), width: { ideal: 640 }, height: { ideal: 480 } },
          audio: false,
        }),
      true,
    );
  }

  /**
   * Watches a camera the page does not own (a remote talker's video track on the peer connection)
   * with the same loop; `stop` leaves its tracks to their owner.
   */
  async watch(stream: MediaStream): Promise<void> {
    await this.begin(() => Promise.resolve(stream), false);
  }

  private async begin(open: () => Promise<MediaStream>, owned: boolean): Promise<void> {
    if (this.state.active) return;
    const run = ++this.run;
    this.set({ active: true, error: null, status: this.state.status === 'ready' ? 'ready' : 'loading' });
    try {
      const stream = await open();
      if (run !== this.run) {
        if (owned) for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.stream = stream;
      this.ownsStream = owned;
      const video = document.createElement('video');
      video.muted = true;
      video.playsInline = true;
      video.srcObject = new MediaStream(stream.getVideoTracks());
      await video.play();
      this.video = video;
      await this.loadModels();
      if (run !== this.run) return;
      this.schedule(0, run);
    } catch (error) {
      if (run !== this.run) return;
      this.stop();
      this.set({ status: 'error', error: `Camera: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  /**
   * Checks whether a turn holds the loop now and tells the worker when that changed (a held worker
   * drops the stages not yet run of the frame in progress). The runtime calls it when the user
   * types, sends, starts or stops speaking and when a turn starts; the loop before every frame.
   */
  refreshHold(): void {
    const reason = this.state.active ? this.hooks.holdReason() : null;
    if (reason !== this.state.held) this.set({ held: reason, holds: this.state.holds + (reason !== null && this.state.held === null ? 1 : 0) });
    // A camera turned off holds the worker too: the frame in progress is of no use any more.
    this.tellWorker(!this.state.active || reason !== null);
    // The hold ends without an event (first audio heard, a limit reached): looked at until it does.
    if (reason !== null && this.holdTimer === undefined)
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.refreshHold();
      }, HOLD_RECHECK_MS);
  }

  private tellWorker(held: boolean): void {
    if (!this.worker || held === this.workerHeld) return;
    this.workerHeld = held;
    this.post({ type: 'hold', held });
  }

  /** Turns the camera off: the loop stops at once, the avatar stops looking, the engine hears that nothing is seen. */
  stop(): void {
    this.run += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.tellWorker(true);
    if (this.ownsStream) for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
    this.video = null;
    this.presence.reset();
    this.wave.reset();
    this.lastResultAtMs = null;
    this.resultIntervalMs = 0;
    this.lookTarget = null;
    this.smiling = false;
    this.sendSummary(null);
    this.set({ active: false, last: null, held: null });
  }

  /** Ends the worker too (the page goes away). */
  dispose(): void {
    this.stop();
    this.worker?.terminate();
    this.worker = null;
    this.workerHeld = false;
    this.ready = null;
  }

  private loadModels(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./perception.worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<unknown>) => {
        const reply = VisionWorkerReplySchema.safeParse(event.data);
        if (!reply.success) return;
        const message = reply.data;
        switch (message.type) {
          case 'progress':
            this.set({ loadProgress: message.loaded });
            return;
          case 'ready':
            this.set({ status: 'ready', backend: message.backend, loadMs: Math.round(message.loadMs), loadProgress: 1 });
            resolve();
            return;
          case 'error':
            if (message.fatal) {
              this.ready = null;
              this.worker?.terminate();
              this.worker = null;
              this.workerHeld = false;
              reject(new Error(`the vision models did not load: ${message.message}`));
            } else this.onResult(null);
            return;
          case 'vision.state':
            if (message.missing.length > 0 && this.state.active) this.set({ framesCut: this.state.framesCut + 1 });
            this.onResult(message);
            return;
          case 'dropped':
            if (this.state.active) this.set({ framesCut: this.state.framesCut + 1 });
            this.onResult(null);
            return;
        }
      };
      worker.onerror = (event) => reject(new Error(event.message || 'the perception worker failed to start'));
    });
    this.post({ type: 'load', modelBaseUrl: MODELS_URL, backend: this.backend });
    return this.ready;
  }

  private post(request: VisionWorkerRequest, transfer: Transferable[] = []): void {
    this.worker?.postMessage(request, transfer);
  }

  private schedule(delayMs: number, run: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.captureFrame(run), delayMs);
  }

  private async captureFrame(run: number): Promise<void> {
    const video = this.video;
    if (run !== this.run || !video || this.inFlight) return;
    this.refreshHold();
    if (video.videoWidth === 0 || this.state.held !== null) {
      this.schedule(HOLD_RECHECK_MS, run);
      return;
    }
    const scale = Math.min(1, FRAME_MAX_SIDE_PX / Math.max(video.videoWidth, video.videoHeight));
    const bitmap = await createImageBitmap(video, { resizeWidth: Math.round(video.videoWidth * scale), resizeHeight: Math.round(video.videoHeight * scale) });
    // A turn may have begun while the frame was taken.
    this.refreshHold();
    if (run !== this.run || this.state.held !== null) {
      bitmap.close();
      if (run === this.run) this.schedule(HOLD_RECHECK_MS, run);
      return;
    }
    this.inFlight = true;
    // Hands while the avatar speaks (a raised palm stops it) and while someone is in view (a wave is answered).
    const last = this.state.last;
    const hands = this.hooks.speakingTurnId() !== null || last?.present === true || last?.hand != null;
    this.post({ type: 'frame', frameAtMs: performance.now(), hands, bitmap }, [bitmap]);
  }

  private onResult(result: VisionState | null): void {
    this.inFlight = false;
    const run = this.run;
    if (!this.state.active) return;
    const detectMs = result?.detectMs ?? 0;
    const palmX = result?.hand?.openPalm && result.hand.raised ? result.hand.x : null;
    this.schedule(nextFrameDelayMs(this.hooks.inReply(), detectMs, palmX !== null), run);
    if (!result) return;
    const resultAtMs = performance.now();
    // The loop's recent time between results (smoothed): a slow loop stretches the wave's window.
    if (this.lastResultAtMs !== null) this.resultIntervalMs = this.resultIntervalMs === 0 ? resultAtMs - this.lastResultAtMs : 0.7 * this.resultIntervalMs + 0.3 * (resultAtMs - this.lastResultAtMs);
    this.lastResultAtMs = resultAtMs;
    // A frame whose hands stage a hold dropped says nothing of the hand: the wave and the palm rules skip it.
    const handsSeen = !result.missing.includes('hands');
    const wave = handsSeen ? this.wave.update(palmX, resultAtMs, this.resultIntervalMs) : { waving: false, started: false, still: false };
    const state: VisionState = { ...result, gestures: wave.waving ? [...result.gestures, 'wave'] : result.gestures, resultAtMs };
    this.lookTarget = state.mainFace ? eyeContactTarget(state.mainFace) : null;
    this.smiling = state.gestures.includes('smile');
    this.set({ last: state, framesProcessed: this.state.framesProcessed + 1, waves: this.state.waves + (wave.started ? 1 : 0) });

    const sessionId = this.hooks.sessionId();
    const greet = this.hooks.greetOnArrival();
    if (this.presence.update(state.present, state.resultAtMs) && sessionId && greet) this.hooks.send({ type: 'vision.arrival', sessionId, reason: 'arrival' });
    // A wave is answered when the avatar is silent (the engine greets only then too); during a reply it is no interruption.
    else if (wave.started && sessionId && greet && !this.hooks.inReply()) this.hooks.send({ type: 'vision.arrival', sessionId, reason: 'wave' });
    const speaking = this.hooks.speakingTurnId();
    // A palm that is waving is a wave, not a raised hand, even when two samples of it happen to coincide.
    if (handsSeen && this.palm.update(wave.still ? palmX : null, speaking)) {
      this.hooks.stopReply();
      this.set({ palmStops: this.state.palmStops + 1 });
    }
    this.sendSummary(summarizeVision(state));
  }

  /** Tells the engine what the avatar sees (null: nothing, the camera is off) when it changed or is getting old. */
  private sendSummary(summary: VisionSummary | null): void {
    const sessionId = this.hooks.sessionId();
    if (!sessionId) return;
    const key = JSON.stringify(summary);
    const nowMs = performance.now();
    if (key === this.lastSummary && (summary === null || nowMs - this.lastSummaryAtMs < SUMMARY_REFRESH_MS)) return;
    this.lastSummary = key;
    this.lastSummaryAtMs = nowMs;
    this.hooks.send({ type: 'vision.summary', sessionId, summary });
  }

  private set(patch: Partial<VisionSnapshot>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
