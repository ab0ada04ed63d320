import { rmsOf } from '../../shared/audio/pcm';

/**
 * A rise in the microphone's loudness, seen the moment a frame arrives (before the VAD's round trip
 * and before silero has heard enough windows to call it voice): the earliest sign that the user
 * started talking over the avatar. It only pre-triggers the duck; silero must confirm it soon or the
 * duck is withdrawn, and onsets that keep being withdrawn (a noisy room, echo of the avatar's own
 * voice) switch it off for a while, so at worst the avatar's voice dips briefly once or twice.
 */

/** A frame this loud (RMS, dBFS) at least counts as a possible onset; quieter is background. */
export const ENERGY_ONSET_MIN_DB = -45;
/** …and it must be this much louder than the quietest frame of the last `FLOOR_WINDOW_MS`. */
export const ENERGY_ONSET_RISE_DB = 15;
/** The background's level is the quietest frame over this stretch. */
const FLOOR_WINDOW_MS = 1500;
/** No onset before the background has been heard this long (a stream's first frames have nothing to rise from). */
const MIN_HISTORY_FRAMES = 5;
/** Digital silence reads as this level (log of zero). */
const SILENT_DB = -100;
/** After this many withdrawn onsets within `BACKOFF_WINDOW_MS`, energy onsets are ignored for `BACKOFF_MS`. */
const BACKOFF_AFTER_WITHDRAWN = 2;
const BACKOFF_WINDOW_MS = 10_000;
const BACKOFF_MS = 10_000;

export function frameDb(pcm: Float32Array): number {
  const rms = rmsOf(pcm);
  return rms > 0 ? Math.max(SILENT_DB, 20 * Math.log10(rms)) : SILENT_DB;
}

export class EnergyOnset {
  /** Levels of the last frames (dBFS) with their stream times, oldest first. */
  private readonly levels: Array<{ atMs: number; db: number }> = [];
  /** Stream times of onsets that silero did not confirm. */
  private readonly withdrawnAtMs: number[] = [];
  private backoffUntilMs = Number.NEGATIVE_INFINITY;
  /** The last frame was above the onset bar: a rise is reported once, at its first frame. */
  private wasLoud = false;

  /**
   * Takes one frame (stream time of its first sample); true when it is a fresh rise above the
   * background (the frame before was not), unless onsets are switched off after repeated withdrawals.
   */
  push(pcm: Float32Array, streamMs: number): boolean {
    const db = frameDb(pcm);
    const floorDb = this.levels.reduce((min, level) => Math.min(min, level.db), Number.POSITIVE_INFINITY);
    const heardBackground = this.levels.length >= MIN_HISTORY_FRAMES;
    this.levels.push({ atMs: streamMs, db });
    while (this.levels.length > 1 && streamMs - this.levels[0]!.atMs > FLOOR_WINDOW_MS) this.levels.shift();
    const loud = db >= ENERGY_ONSET_MIN_DB && db >= floorDb + ENERGY_ONSET_RISE_DB;
    const rise = heardBackground && loud && !this.wasLoud;
    this.wasLoud = loud;
    return rise && streamMs >= this.backoffUntilMs;
  }

  /** An onset at `streamMs` was not confirmed as voice: after repeated ones, energy onsets rest. */
  withdrawn(streamMs: number): void {
    this.withdrawnAtMs.push(streamMs);
    while (this.withdrawnAtMs.length > 0 && streamMs - this.withdrawnAtMs[0]! > BACKOFF_WINDOW_MS) this.withdrawnAtMs.shift();
    if (this.withdrawnAtMs.length >= BACKOFF_AFTER_WITHDRAWN) {
      this.backoffUntilMs = streamMs + BACKOFF_MS;
      this.withdrawnAtMs.length = 0;
    }
  }

  /** The stream restarted at time 0 (a new VAD stream). */
  reset(): void {
    this.levels.length = 0;
    this.withdrawnAtMs.length = 0;
    this.backoffUntilMs = Number.NEGATIVE_INFINITY;
    this.wasLoud = false;
  }
}
