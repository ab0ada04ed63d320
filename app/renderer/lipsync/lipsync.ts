import type { PhonemeSpan, Viseme } from '../../shared/phoneme.contract';

/** The mouth at one moment: weight per viseme (0..1; `sil` is the rest shape) and the dominant one. */
export interface VisemeFrame {
  viseme: Viseme;
  weights: Partial<Record<Viseme, number>>;
}

/** Which chunk of which turn a timeline is. */
export interface ChunkKey {
  turnId: string;
  seq: number;
}

/**
 * Lip-sync as the player and the avatar see it. Times are AudioContext seconds of the samples
 * (scheduled start + phoneme offset); the caller samples at the context time being heard now
 * (`currentTime - outputLatency`).
 */
export interface LipSync {
  /** Adds one chunk's phoneme timeline that starts playing at `startSec` (`chunk` names it for the test probe). */
  schedule(phonemes: readonly PhonemeSpan[], startSec: number, chunk?: ChunkKey): void;
  /** Drops everything that would be heard after `cutSec` (barge-in, stop). */
  cut(cutSec: number): void;
  /** The mouth at audio time `timeSec`. Pure: no smoothing state depends on the frame rate. */
  sample(timeSec: number): VisemeFrame;
}
