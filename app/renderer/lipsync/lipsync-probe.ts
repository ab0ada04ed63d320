import type { PhonemeSpan } from '../../shared/phoneme.contract';

/** One reading of the face: the weights the avatar applies for audio time `audioTimeMs`. */
export interface FaceSample {
  /** AudioContext time (ms) of the audio heard with this face (the lip-sync pick time). */
  audioTimeMs: number;
  /** `frame`: what a rendered frame applied; `clock`: the same computation on a timer between frames. */
  source: 'frame' | 'clock';
  viseme: string;
  /** The avatar's weight names (its format's mouth, blink and emotion names) → value. */
  weights: Record<string, number>;
  mouthOpen: number;
}

/** A chunk timeline as the lip-sync received it, with the context time its audio starts. */
export interface ScheduleRecord {
  startSec: number;
  phonemes: PhonemeSpan[];
  /** The turn and chunk it belongs to, when the player named it (a reply may repeat an earlier one's words). */
  turnId?: string;
  seq?: number;
}

/** The animator's face computation for an audio time (the one it uses for every frame). */
export type FaceAt = (audioTimeSec: number) => Omit<FaceSample, 'audioTimeMs' | 'source'>;

const MAX_SCHEDULES = 256;
const MAX_SAMPLES = 20_000;

/**
 * A test and bench probe for lip-sync. Software GL draws a few frames a second, too few to see a
 * 60 ms bilabial, so while running it also samples the avatar's own face computation on the audio
 * clock every few milliseconds. It records nothing until enabled: only the test hooks
 * (state/test-hooks.ts, `?testHooks=1`) enable it and expose it as `window.avatarLipSyncProbe`.
 */
export class LipSyncProbe {
  private enabled = false;
  private clockSec: (() => number) | null = null;
  private faceAt: FaceAt | null = null;
  private samples: FaceSample[] = [];
  private readonly scheduled: ScheduleRecord[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  /** The animator connects its clock and face computation. */
  attach(clockSec: () => number, faceAt: FaceAt): void {
    this.clockSec = clockSec;
    this.faceAt = faceAt;
  }

  /** Lets the probe record (schedules now, frames and clock samples while running). */
  enable(): void {
    this.enabled = true;
  }

  recordSchedule(phonemes: readonly PhonemeSpan[], startSec: number, chunk?: { turnId: string; seq: number }): void {
    if (!this.enabled) return;
    this.scheduled.push({ startSec, phonemes: phonemes.map((span) => ({ ...span })), ...chunk });
    if (this.scheduled.length > MAX_SCHEDULES) this.scheduled.shift();
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** What a rendered frame applied (recorded only while running). */
  recordFrame(sample: Omit<FaceSample, 'source'>): void {
    if (this.running) this.push({ ...sample, weights: { ...sample.weights }, source: 'frame' });
  }

  /** Starts a fresh recording, sampling the clock every `intervalMs`. */
  start(intervalMs = 4): void {
    this.stop();
    if (!this.enabled) return;
    this.samples = [];
    this.timer = setInterval(() => {
      if (!this.clockSec || !this.faceAt) return;
      const audioTimeSec = this.clockSec();
      const face = this.faceAt(audioTimeSec);
      this.push({ ...face, weights: { ...face.weights }, audioTimeMs: audioTimeSec * 1000, source: 'clock' });
    }, intervalMs);
  }

  /** Stops and returns the recording. */
  stop(): FaceSample[] {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return this.samples;
  }

  /** Every chunk timeline scheduled so far (most recent last). */
  schedules(): ScheduleRecord[] {
    return this.scheduled.map((record) => ({ ...record, phonemes: [...record.phonemes] }));
  }

  private push(sample: FaceSample): void {
    if (this.samples.length < MAX_SAMPLES) this.samples.push(sample);
  }
}

export const lipSyncProbe = new LipSyncProbe();
