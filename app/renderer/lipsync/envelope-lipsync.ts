import type { PhonemeSpan, Viseme } from '../../shared/phoneme.contract';
import type { LipSync, VisemeFrame } from './lipsync';
import { phonemeToViseme } from './phoneme-to-viseme';

/** A viseme held from `startSec` to `endSec` on the audio clock. */
interface VisemeKey {
  viseme: Viseme;
  startSec: number;
  endSec: number;
}

export interface EnvelopeOptions {
  /** The mouth starts forming a shape this long before its sound (anticipatory coarticulation). */
  attackSec: number;
  /** And lets go of it over this long after the sound. */
  releaseSec: number;
}

const DEFAULTS: EnvelopeOptions = { attackSec: 0.06, releaseSec: 0.08 };
/** Shapes that must win over their neighbours: lips closed (PP) and lip-to-teeth (FF). */
const DOMINANT: Partial<Record<Viseme, number>> = { PP: 1, FF: 0.7 };

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * Phoneme timeline → viseme weights with attack/release envelopes, so neighbours blend and fast
 * speech does not flicker. Bilabials dominate their neighbours so the lips really close.
 */
export class EnvelopeLipSync implements LipSync {
  private keys: VisemeKey[] = [];

  constructor(private readonly options: EnvelopeOptions = DEFAULTS) {}

  schedule(phonemes: readonly PhonemeSpan[], startSec: number): void {
    for (const span of phonemes) {
      if (span.endMs <= span.startMs) continue;
      this.keys.push({
        viseme: phonemeToViseme(span.phoneme),
        startSec: startSec + span.startMs / 1000,
        endSec: startSec + span.endMs / 1000,
      });
    }
    this.keys.sort((a, b) => a.startSec - b.startSec);
  }

  cut(cutSec: number): void {
    this.keys = this.keys
      .filter((key) => key.startSec < cutSec)
      .map((key) => (key.endSec > cutSec ? { ...key, endSec: cutSec } : key));
  }

  sample(timeSec: number): VisemeFrame {
    const { attackSec, releaseSec } = this.options;
    // Keys wholly in the past no longer matter.
    while (this.keys.length > 0 && this.keys[0]!.endSec + releaseSec < timeSec - 1) this.keys.shift();

    const raw = new Map<Viseme, number>();
    for (const key of this.keys) {
      if (key.startSec - attackSec > timeSec) break;
      if (key.endSec + releaseSec < timeSec) continue;
      const rise = smoothstep(key.startSec - attackSec, key.startSec, timeSec);
      const fall = 1 - smoothstep(key.endSec, key.endSec + releaseSec, timeSec);
      const weight = Math.min(rise, fall);
      if (weight > 0) raw.set(key.viseme, Math.max(raw.get(key.viseme) ?? 0, weight));
    }

    let dominance = 0;
    for (const [viseme, weight] of raw) dominance = Math.max(dominance, weight * (DOMINANT[viseme] ?? 0));
    let total = 0;
    for (const [viseme, weight] of raw) {
      const scaled = DOMINANT[viseme] ? weight : weight * (1 - dominance);
      raw.set(viseme, scaled);
      total += scaled;
    }

    const weights: Partial<Record<Viseme, number>> = {};
    let viseme: Viseme = 'sil';
    let best = 0;
    const norm = Math.max(1, total);
    for (const [name, weight] of raw) {
      const value = weight / norm;
      weights[name] = value;
      if (value > best) {
        best = value;
        viseme = name;
      }
    }
    return { viseme, weights };
  }
}

/** The renderer's lip-sync: phoneme table + envelopes. Swap the implementation here. */
export function createLipSync(): LipSync {
  return new EnvelopeLipSync();
}
