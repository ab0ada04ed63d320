/**
 * How long a shared frame takes from being drawn to leaving the canvas capture track, i.e. reaching
 * the encoder. The capture's GPU copy waits in the GPU process's queue (on software GL behind every
 * page's drawing and compositing): on a busy 2-core machine this is 50–300 ms, time the receiver's
 * lip sync cannot see, because WebRTC stamps a frame's capture time when it leaves the track. The
 * share holds its audio by this delay so voice and mouth arrive together (share-sender.ts).
 *
 * A canvas capture track stamps each frame with the time its canvas was grabbed, counted from the
 * first grab (Chromium's CanvasCaptureHandler), and the compositor grabs in the same frame it draws,
 * so `first request + frame.timestamp` is the draw time on this page's clock.
 */

/** Delay samples kept for the estimate (about two seconds of frames at the share's usual rates). */
const WINDOW = 24;
/** The audio is never held longer than this, whatever the measurement says. */
export const MAX_AUDIO_HOLD_MS = 1000;
/**
 * How much longer the voice's own way is than a frame's once both are in WebRTC: 10 ms capture
 * chunks and 20 ms Opus packets, then the viewer's audio jitter buffer and playout, against a frame's
 * encode, video jitter buffer and decode. Measured with the `webrtc` bench on loopback, Chromium
 * viewer (2026-12-06): held by the whole capture delay the voice came 41–64 ms (p50) after its
 * frames, with no hold 29 ms before them, the skew following the hold one for one; the lead that
 * centres it was 48–55 ms in four runs. With 50, six later 30-second runs put the voice 11 ms
 * before the picture on average (p50 +18 … −24 ms: the bias moves about ±20 ms from run to run);
 * with 40 three runs had p50 −1, −14 and −24 ms, p95 25.5, 36.3 and 60 ms. The run-to-run
 * wander swamps a 10 ms change of lead; 40 met the 40 ms p95 in two runs of three, 50 in one of
 * six. The hold is the capture delay less this lead.
 */
export const AUDIO_PATH_LEAD_MS = 40;

/** Draw → out of the track for one frame: `frameTimestampUs` counts from the first grab at `firstRequestMs`. */
export function frameCaptureDelayMs(nowMs: number, firstRequestMs: number, frameTimestampUs: number): number {
  return nowMs - (firstRequestMs + frameTimestampUs / 1000);
}

/**
 * A quantile of the last `size` samples (the median by default): a steady estimate that one slow or
 * early frame does not move.
 */
export class RunningQuantile {
  private readonly samples: number[] = [];

  constructor(
    private readonly size: number = WINDOW,
    private readonly q: number = 0.5,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`RunningQuantile size must be a positive integer, got ${size}.`);
    if (!(q >= 0 && q <= 1)) throw new RangeError(`RunningQuantile quantile must lie in 0..1, got ${q}.`);
  }

  push(value: number): void {
    if (!Number.isFinite(value)) return;
    this.samples.push(value);
    if (this.samples.length > this.size) this.samples.shift();
  }

  get count(): number {
    return this.samples.length;
  }

  /** The quantile (linear between neighbours), or null before the first sample. */
  get value(): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const position = (sorted.length - 1) * this.q;
    const below = Math.floor(position);
    const above = Math.min(sorted.length - 1, below + 1);
    return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
  }
}

/**
 * The audio hold for a measured video delay, less the audio path's own lead: never negative, never
 * beyond MAX_AUDIO_HOLD_MS.
 */
export function audioHoldMs(videoDelayMs: number | null, audioLeadMs = AUDIO_PATH_LEAD_MS): number {
  if (videoDelayMs === null || !Number.isFinite(videoDelayMs)) return 0;
  return Math.min(MAX_AUDIO_HOLD_MS, Math.max(0, videoDelayMs - audioLeadMs));
}

interface TrackProcessor {
  readable: ReadableStream<VideoFrame>;
}

type TrackProcessorConstructor = new (init: { track: MediaStreamTrack }) => TrackProcessor;

/**
 * Watches a clone of the share's video track (MediaStreamTrackProcessor; frames are only timed and
 * closed, never read) and keeps a running estimate of draw → capture. Where the browser has no
 * MediaStreamTrackProcessor, `delayMs` stays null.
 */
export class CaptureDelayMeter {
  /**
   * A low percentile (the 10th): the frames reach the encoder on another thread, but this page sees
   * them only when its busy main thread gets to them, which only ever adds delay to a sample (with the
   * median or the lower quartile the held voice came 35–45 ms after its frames in the `webrtc` bench).
   */
  private readonly estimate = new RunningQuantile(WINDOW, 0.1);
  private readonly clone: MediaStreamTrack | null = null;
  private reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  private stopped = false;
  private lastDrawnMs: number | null = null;
  private lastTimestampUs = Number.NEGATIVE_INFINITY;

  constructor(
    track: MediaStreamTrack,
    /** performance.now() of the compositor's first requestFrame, null before it. */
    private readonly firstRequestMs: () => number | null,
  ) {
    const Processor = (window as unknown as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
    if (!Processor) return;
    this.clone = track.clone();
    this.reader = new Processor({ track: this.clone }).readable.getReader();
    void this.run();
  }

  /** Whether frames are being measured (the browser has MediaStreamTrackProcessor). */
  get measuring(): boolean {
    return this.reader !== null;
  }

  /** Draw time (performance.now()) of the newest frame out of the track, null before one. */
  get lastFrameDrawnMs(): number | null {
    return this.lastDrawnMs;
  }

  /** Draw → capture delay of the recent frames (their 10th percentile), null until measured. */
  get delayMs(): number | null {
    return this.estimate.value;
  }

  dispose(): void {
    this.stopped = true;
    void this.reader?.cancel().catch(() => undefined);
    this.clone?.stop();
  }

  private async run(): Promise<void> {
    const reader = this.reader!;
    while (!this.stopped) {
      let frame: VideoFrame | undefined;
      try {
        ({ value: frame } = await reader.read());
      } catch {
        return;
      }
      if (!frame) return;
      const nowMs = performance.now();
      // A track re-sends its last frame now and then (same timestamp): only new frames count.
      if (frame.timestamp <= this.lastTimestampUs) {
        frame.close();
        continue;
      }
      this.lastTimestampUs = frame.timestamp;
      const firstMs = this.firstRequestMs();
      if (firstMs !== null) {
        const delayMs = frameCaptureDelayMs(nowMs, firstMs, frame.timestamp);
        this.estimate.push(delayMs);
        this.lastDrawnMs = nowMs - delayMs;
      }
      frame.close();
    }
  }
}
