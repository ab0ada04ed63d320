import { addAfterEffect, advance } from '@react-three/fiber';
import { drawStamp, wallClockMs } from './share-stamp';

/** Chroma-key green for OBS's Chroma Key filter (`&background=chroma`). */
export const CHROMA_KEY_COLOR = '#00ff00';

export interface CompositorOptions {
  /** The avatar's WebGL canvas (looked up on every frame: React may replace it). */
  source: () => HTMLCanvasElement | null;
  width: number;
  height: number;
  fps: number;
  /** CSS colour behind the avatar (WebRTC video has no alpha). */
  background: string;
  /** Draw the capture-time stamp (measurement only). */
  stamp: boolean;
}

/**
 * Draws the avatar into a canvas of the shared size, right after three.js renders each frame (the
 * WebGL drawing buffer is complete there even without `preserveDrawingBuffer`), and hands every
 * drawn frame to a `captureStream(0)` track, so the video carries exactly the frames drawn at the
 * preset rate. While the page is hidden, requestAnimationFrame stops: a worker metronome then
 * advances the three.js loop itself so the share keeps moving.
 */
export class ShareCompositor {
  readonly canvas: HTMLCanvasElement;
  readonly track: CanvasCaptureMediaStreamTrack;
  private readonly context: CanvasRenderingContext2D;
  private readonly frameIntervalMs: number;
  private lastDrawMs = -Infinity;
  private framesDrawn = 0;
  private readonly removeAfterEffect: () => void;
  private readonly ticker: Worker;
  private readonly onVisibility = (): void => this.followVisibility();

  constructor(private readonly options: CompositorOptions) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = options.width;
    this.canvas.height = options.height;
    const context = this.canvas.getContext('2d', { alpha: false });
    if (!context) throw new Error('This browser cannot draw the shared video (no 2D canvas).');
    this.context = context;
    this.track = this.canvas.captureStream(0).getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
    this.frameIntervalMs = 1000 / options.fps;
    this.removeAfterEffect = addAfterEffect((timestampMs) => this.draw(timestampMs));
    this.ticker = new Worker(new URL('./share-ticker.worker.ts', import.meta.url), { type: 'module' });
    this.ticker.onmessage = () => advance(performance.now());
    document.addEventListener('visibilitychange', this.onVisibility);
    this.followVisibility();
  }

  /** Frames handed to the video track so far. */
  get frames(): number {
    return this.framesDrawn;
  }

  dispose(): void {
    this.removeAfterEffect();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.ticker.terminate();
    this.track.stop();
  }

  private followVisibility(): void {
    this.ticker.postMessage(document.visibilityState === 'hidden' ? Math.round(this.frameIntervalMs) : 0);
  }

  private draw(nowMs: number): void {
    // Render loops run at the display rate; keep the preset's rate (a little slack for jitter).
    if (nowMs - this.lastDrawMs < this.frameIntervalMs * 0.8) return;
    this.lastDrawMs = nowMs;
    const { width, height } = this.options;
    const context = this.context;
    context.fillStyle = this.options.background;
    context.fillRect(0, 0, width, height);
    const source = this.options.source();
    if (source && source.width > 0 && source.height > 0) {
      // Contain: the whole avatar, centred, scaled to the shared frame.
      const scale = Math.min(width / source.width, height / source.height);
      const drawWidth = source.width * scale;
      const drawHeight = source.height * scale;
      context.drawImage(source, (width - drawWidth) / 2, (height - drawHeight) / 2, drawWidth, drawHeight);
    }
    if (this.options.stamp) drawStamp(context, wallClockMs());
    this.track.requestFrame();
    this.framesDrawn += 1;
  }
}
