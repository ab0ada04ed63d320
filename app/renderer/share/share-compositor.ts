import { addAfterEffect, advance } from '@react-three/fiber';
import { holdFrameloop } from '../avatar/frameloop-control';
import { packedFrameWidth, type SharePacking } from './alpha-pack';
import { CaptureDelayMeter } from './capture-delay';
import { drawStamp, wallClockMs } from './share-stamp';

/** Chroma-key green for OBS's Chroma Key filter (`&background=chroma`). */
export const CHROMA_KEY_COLOR = '#00ff00';

export interface CompositorOptions {
  /** The avatar's WebGL canvas (looked up on every frame: React may replace it). */
  source: () => HTMLCanvasElement | null;
  width: number;
  height: number;
  fps: number;
  /** CSS colour behind the avatar (WebRTC video has no alpha); unused when alpha-packed. */
  background: string;
  /** Draw the capture-time stamp (measurement only). */
  stamp: boolean;
  /** `alpha`: colour left, alpha as grey right, in a frame twice as wide (alpha-pack.ts). */
  packing?: SharePacking;
  /**
   * `cpu`: the frame is composed in a software 2D canvas (`willReadFrequently`), read back from
   * WebGL once per frame; `gpu`: an accelerated 2D canvas (Chromium's default).
   */
  canvas?: 'cpu' | 'gpu' | undefined;
  /**
   * `capture` (default): the compositor drives the avatar's render loop and renders a frame only once
   * the capture took the previous one, so no frame waits behind another in the GPU process (on
   * software GL the capture's copy is the slowest step); `free`: the scene renders at its own rate.
   */
  pacing?: 'capture' | 'free' | undefined;
}

/**
 * A frame the capture has not handed out stops holding the next one after this long: Chromium's
 * canvas capture may hand a frame out only at the page's next update, and a dropped frame never.
 */
const CAPTURE_WAIT_LIMIT_MS = 250;

/** Where a source of `sourceWidth`×`sourceHeight` lands, whole and centred, in a `width`×`height` frame. */
function containRect(sourceWidth: number, sourceHeight: number, width: number, height: number): [number, number, number, number] {
  const scale = Math.min(width / sourceWidth, height / sourceHeight);
  const drawWidth = sourceWidth * scale;
  const drawHeight = sourceHeight * scale;
  return [(width - drawWidth) / 2, (height - drawHeight) / 2, drawWidth, drawHeight];
}

/**
 * Draws the avatar into a canvas of the shared size, right after three.js renders each frame (the
 * WebGL drawing buffer is complete there even without `preserveDrawingBuffer`), and hands every
 * drawn frame to a `captureStream(0)` track, so the video carries exactly the frames drawn at the
 * preset rate. While the page is hidden, requestAnimationFrame stops: a worker metronome then
 * advances the three.js loop itself so the share keeps moving. Paced (the default), it also owns the
 * scene's loop while sharing: a frame is rendered only when the capture has handed out the previous
 * one, so on software GL no frame's copy waits behind other frames in the GPU process. Alpha-packed, the frame is twice as
 * wide and its right half carries the WebGL canvas's own alpha (the scene clears to transparent).
 */
export class ShareCompositor {
  readonly canvas: HTMLCanvasElement;
  readonly track: CanvasCaptureMediaStreamTrack;
  private readonly context: CanvasRenderingContext2D;
  /** Alpha-packed only: the avatar's coverage turned white, drawn into the frame's right half. */
  private readonly mask: CanvasRenderingContext2D | null = null;
  private readonly frameIntervalMs: number;
  private lastDrawMs = -Infinity;
  private framesDrawn = 0;
  private firstRequestAtMs: number | null = null;
  private readonly removeAfterEffect: () => void;
  private readonly ticker: Worker;
  private readonly onVisibility = (): void => this.followVisibility();
  private readonly meter: CaptureDelayMeter;
  private readonly paced: boolean;
  private releaseFrameloop: (() => void) | null = null;
  private animationFrame = 0;
  private lastRequestMs = -Infinity;
  /** Paced: a 1-pixel, nearly transparent element restyled while waiting, so the page keeps updating. */
  private readonly nudge: HTMLDivElement = document.createElement('div');

  constructor(private readonly options: CompositorOptions) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = packedFrameWidth(options.width, options.packing ?? 'none');
    this.canvas.height = options.height;
    const context = this.canvas.getContext('2d', { alpha: false, willReadFrequently: (options.canvas ?? 'gpu') === 'cpu' });
    if (!context) throw new Error('This browser cannot draw the shared video (no 2D canvas).');
    this.context = context;
    if (options.packing === 'alpha') {
      const mask = document.createElement('canvas');
      mask.width = options.width;
      mask.height = options.height;
      this.mask = mask.getContext('2d');
      if (!this.mask) throw new Error('This browser cannot draw the shared video (no 2D canvas).');
    }
    this.track = this.canvas.captureStream(0).getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
    this.frameIntervalMs = 1000 / options.fps;
    this.meter = new CaptureDelayMeter(this.track, () => this.firstRequestAtMs);
    this.removeAfterEffect = addAfterEffect((timestampMs) => this.draw(timestampMs));
    // Pacing needs to see frames leave the capture (MediaStreamTrackProcessor).
    this.paced = (options.pacing ?? 'capture') === 'capture' && this.meter.measuring;
    if (this.paced) {
      this.nudge.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0.01';
      this.nudge.setAttribute('aria-hidden', 'true');
      document.body.append(this.nudge);
      this.releaseFrameloop = holdFrameloop();
      this.animationFrame = requestAnimationFrame(this.onAnimationFrame);
    }
    this.ticker = new Worker(new URL('./share-ticker.worker.ts', import.meta.url), { type: 'module' });
    this.ticker.onmessage = () => (this.paced ? this.step(performance.now()) : advance(performance.now()));
    document.addEventListener('visibilitychange', this.onVisibility);
    this.followVisibility();
  }

  /** Frames handed to the video track so far. */
  get frames(): number {
    return this.framesDrawn;
  }

  /** Draw → encoder delay of the recent shared frames (capture-delay.ts), null until measured. */
  get captureDelayMs(): number | null {
    return this.meter.delayMs;
  }

  dispose(): void {
    cancelAnimationFrame(this.animationFrame);
    this.releaseFrameloop?.();
    this.releaseFrameloop = null;
    this.nudge.remove();
    this.meter.dispose();
    this.removeAfterEffect();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.ticker.terminate();
    this.track.stop();
  }

  private followVisibility(): void {
    this.ticker.postMessage(document.visibilityState === 'hidden' ? Math.round(this.frameIntervalMs) : 0);
  }

  private readonly onAnimationFrame = (nowMs: number): void => {
    this.animationFrame = requestAnimationFrame(this.onAnimationFrame);
    this.step(nowMs);
  };

  /** Paced: renders (and so shares) a frame when one is due and the capture has taken the last one. */
  private step(nowMs: number): void {
    if (nowMs - this.lastDrawMs < this.frameIntervalMs * 0.8) return;
    if (this.captureBusy(nowMs)) {
      // Keep the page updating while waiting: the capture hands frames out at the page's updates.
      this.nudge.style.opacity = this.nudge.style.opacity === '0.01' ? '0.02' : '0.01';
      return;
    }
    advance(nowMs);
  }

  /** The last requested frame has not left the capture yet (within CAPTURE_WAIT_LIMIT_MS). */
  private captureBusy(nowMs: number): boolean {
    if (nowMs - this.lastRequestMs > CAPTURE_WAIT_LIMIT_MS) return false;
    const outMs = this.meter.lastFrameDrawnMs;
    // Grab times are counted from the first grab: allow half a frame of rounding.
    return outMs === null || outMs < this.lastRequestMs - this.frameIntervalMs / 2;
  }

  private draw(nowMs: number): void {
    // Render loops run at the display rate; keep the preset's rate (a little slack for jitter).
    if (nowMs - this.lastDrawMs < this.frameIntervalMs * 0.8) return;
    this.lastDrawMs = nowMs;
    const { width, height } = this.options;
    const context = this.context;
    // Packed: black under the colour is premultiplication, black in the alpha half is transparent.
    context.fillStyle = this.mask ? '#000' : this.options.background;
    context.fillRect(0, 0, this.canvas.width, height);
    const source = this.options.source();
    if (source && source.width > 0 && source.height > 0) {
      const rect = containRect(source.width, source.height, width, height);
      context.drawImage(source, ...rect);
      if (this.mask) this.drawAlpha(source, rect);
    }
    if (this.options.stamp) drawStamp(context, wallClockMs());
    this.track.requestFrame();
    this.lastRequestMs = performance.now();
    this.firstRequestAtMs ??= this.lastRequestMs;
    this.framesDrawn += 1;
  }

  /** The avatar's alpha as grey into the right half: its pixels filled white keep only their coverage, then over black. */
  private drawAlpha(source: HTMLCanvasElement, rect: [number, number, number, number]): void {
    const mask = this.mask!;
    const { width, height } = this.options;
    mask.globalCompositeOperation = 'source-over';
    mask.clearRect(0, 0, width, height);
    mask.drawImage(source, ...rect);
    mask.globalCompositeOperation = 'source-in';
    mask.fillStyle = '#fff';
    mask.fillRect(0, 0, width, height);
    this.context.drawImage(mask.canvas, width, 0);
  }
}
