import type { PhonemeSpan, Viseme } from '../phoneme.contract';
import { visemeSpansFromPhonemes, type VisemeSpan } from './viseme-spans';
import {
  buildVisemeTrack,
  DEFAULT_VISEME_TRACK_OPTIONS,
  dominantViseme,
  emptyVisemeWeights,
  sampleVisemeWeights,
  type VisemeTrack,
  type VisemeTrackOptions,
  type VisemeWeights,
} from './viseme-track';

/** The mouth at one moment: weight per viseme and the dominant one. */
export interface ScheduledVisemeFrame {
  viseme: Viseme;
  weights: VisemeWeights;
}

/** Spans that ended this long before the latest time sampled (the audio being heard) are forgotten. */
const KEEP_PAST_MS = 2000;

/**
 * Lip-sync on the audio clock across TTS chunks: each chunk's phoneme timeline is placed at the
 * context time its audio starts, all chunks form one coarticulated track (so the mouth blends
 * across chunk boundaries), and sampling is a pure function of the time asked for. Times are
 * seconds on the AudioContext clock; the caller corrects for output latency.
 */
export class ScheduledVisemeTrack {
  private spans: VisemeSpan[] = [];
  private track: VisemeTrack | null = null;
  private readonly weights = emptyVisemeWeights();
  /** The latest audio time sampled (ms): what is being heard now, give or take a frame. */
  private latestSampledMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: VisemeTrackOptions = DEFAULT_VISEME_TRACK_OPTIONS) {}

  /** Adds one chunk's phoneme timeline (ms relative to the chunk) that starts playing at `startSec`. */
  schedule(phonemes: readonly PhonemeSpan[], startSec: number): void {
    const offsetMs = startSec * 1000;
    const added = visemeSpansFromPhonemes(phonemes).map((span) => ({ ...span, startMs: span.startMs + offsetMs, endMs: span.endMs + offsetMs }));
    // Forget only what is already behind the listener. A chunk arrives ahead of its audio (the
    // reply is written and voiced faster than it is spoken), so its start says nothing about what
    // is being heard: forgetting relative to it closed the mouth on the chunks still playing.
    const forgetBeforeMs = Math.min(offsetMs, this.latestSampledMs) - KEEP_PAST_MS;
    this.spans = [...this.spans.filter((span) => span.endMs >= forgetBeforeMs), ...added].sort((a, b) => a.startMs - b.startMs);
    this.track = null;
  }

  /** Drops everything that would be heard after `cutSec` (barge-in, stop); the mouth then closes to rest. */
  cut(cutSec: number): void {
    const cutMs = cutSec * 1000;
    this.spans = this.spans.filter((span) => span.startMs < cutMs).map((span) => (span.endMs > cutMs ? { ...span, endMs: cutMs } : span));
    this.track = null;
  }

  /** The mouth at audio time `timeSec`; the returned object is reused by the next call. */
  sample(timeSec: number): ScheduledVisemeFrame {
    this.latestSampledMs = Math.max(this.latestSampledMs, timeSec * 1000);
    this.track ??= buildVisemeTrack(this.spans, this.options);
    sampleVisemeWeights(this.track, timeSec * 1000, this.weights);
    return { viseme: dominantViseme(this.weights), weights: this.weights };
  }
}
