import type { PhonemeSpan } from '../../shared/phoneme.contract';
import { mulberry32 } from '../../shared/random/mulberry32';

/**
 * Placeholder speech for the scripted TTS: a voiced buzz shaped per letter group (vowels get
 * formant-like resonances, fricatives noise, plosives a closure and burst) and a phoneme timeline
 * built from the same sample counts, so the timeline matches the audio exactly.
 */

type SoundClass = 'vowel' | 'nasal' | 'fricative' | 'plosive' | 'liquid' | 'pause';

interface Sound {
  phoneme: string;
  soundClass: SoundClass;
  durationMs: number;
  /** Resonances (Hz) for voiced sounds, centre frequency for fricative noise. */
  formantsHz: readonly number[];
}

const VOWELS: Record<string, readonly number[]> = {
  a: [730, 1090],
  e: [530, 1840],
  i: [300, 2200],
  o: [570, 840],
  u: [440, 1020],
  y: [300, 2200],
};

/** Letter groups (longest first) → phoneme symbol and sound class. */
const LETTER_GROUPS: ReadonlyArray<readonly [string, string, SoundClass]> = [
  ['th', 'θ', 'fricative'],
  ['sh', 'ʃ', 'fricative'],
  ['ch', 'tʃ', 'fricative'],
  ['ng', 'ŋ', 'nasal'],
  ['ph', 'f', 'fricative'],
  ['ee', 'i', 'vowel'],
  ['oo', 'u', 'vowel'],
  ['b', 'b', 'plosive'],
  ['c', 'k', 'plosive'],
  ['d', 'd', 'plosive'],
  ['f', 'f', 'fricative'],
  ['g', 'g', 'plosive'],
  ['h', 'h', 'fricative'],
  ['j', 'dʒ', 'fricative'],
  ['k', 'k', 'plosive'],
  ['l', 'l', 'liquid'],
  ['m', 'm', 'nasal'],
  ['n', 'n', 'nasal'],
  ['p', 'p', 'plosive'],
  ['q', 'k', 'plosive'],
  ['r', 'r', 'liquid'],
  ['s', 's', 'fricative'],
  ['t', 't', 'plosive'],
  ['v', 'v', 'fricative'],
  ['w', 'w', 'liquid'],
  ['x', 's', 'fricative'],
  ['y', 'j', 'liquid'],
  ['z', 'z', 'fricative'],
];

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

const TARGET_RMS: Record<SoundClass, number> = { vowel: 0.2, nasal: 0.1, liquid: 0.12, fricative: 0.05, plosive: 0.08, pause: 0 };
const DURATION_MS: Record<SoundClass, number> = { vowel: 95, nasal: 65, fricative: 75, plosive: 55, liquid: 60, pause: 45 };
const FRICATIVE_HZ: Record<string, number> = { s: 6000, z: 5500, ʃ: 3000, tʃ: 3200, dʒ: 3000, f: 4500, v: 4000, θ: 5000, h: 1500 };

function soundOf(phoneme: string, soundClass: SoundClass, speed: number): Sound {
  const vowel = VOWELS[phoneme];
  const formantsHz =
    soundClass === 'vowel' && vowel
      ? vowel
      : soundClass === 'fricative'
        ? [FRICATIVE_HZ[phoneme] ?? 4000]
        : soundClass === 'nasal'
          ? [250, 1200]
          : soundClass === 'liquid'
            ? [400, 1300]
            : [];
  return { phoneme, soundClass, durationMs: DURATION_MS[soundClass] / speed, formantsHz };
}

/** Splits text into sounds: letter groups, pauses between words, longer pauses at punctuation. */
export function textToSounds(text: string, speed = 1): Sound[] {
  const sounds: Sound[] = [];
  const lower = text.toLowerCase().replace(/[0-9]/g, (digit) => ` ${DIGITS[Number(digit)]} `);
  let i = 0;
  let pendingPauseMs = 0;
  const pushPause = (ms: number): void => {
    pendingPauseMs = Math.max(pendingPauseMs, ms / speed);
  };
  while (i < lower.length) {
    const char = lower[i]!;
    if (/[.!?;:]/.test(char)) {
      pushPause(220);
      i++;
      continue;
    }
    if (/[,\-–—()]/.test(char)) {
      pushPause(130);
      i++;
      continue;
    }
    if (!/[a-z]/.test(char)) {
      if (/\s/.test(char)) pushPause(DURATION_MS.pause);
      i++;
      continue;
    }
    if (pendingPauseMs > 0 && sounds.length > 0) sounds.push({ ...soundOf('_', 'pause', 1), durationMs: pendingPauseMs });
    pendingPauseMs = 0;
    const vowel = VOWELS[char] && !(char === 'y' && i === 0);
    if (vowel) {
      const double = lower.slice(i, i + 2);
      const group = LETTER_GROUPS.find(([letters]) => letters === double);
      if (group) {
        sounds.push(soundOf(group[1], group[2], speed));
        i += 2;
      } else {
        sounds.push(soundOf(char, 'vowel', speed));
        i++;
      }
      continue;
    }
    const group = LETTER_GROUPS.find(([letters]) => lower.startsWith(letters, i));
    if (group) {
      const previous = sounds.at(-1);
      // Doubled consonants ("ll", "ss") are one sound.
      if (!(previous && previous.phoneme === group[1] && lower[i - 1] === char)) sounds.push(soundOf(group[1], group[2], speed));
      i += group[0].length;
    } else i++;
  }
  return sounds;
}

/** Two-pole resonator (a band-pass around `frequencyHz`). */
class Resonator {
  private y1 = 0;
  private y2 = 0;
  private readonly a1: number;
  private readonly a2: number;
  private readonly gain: number;

  constructor(frequencyHz: number, bandwidthHz: number, sampleRateHz: number) {
    const r = Math.exp((-Math.PI * bandwidthHz) / sampleRateHz);
    this.a1 = 2 * r * Math.cos((2 * Math.PI * frequencyHz) / sampleRateHz);
    this.a2 = -r * r;
    this.gain = 1 - r;
  }

  step(x: number): number {
    const y = this.gain * x + this.a1 * this.y1 + this.a2 * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

export interface ScriptedSpeech {
  sampleRateHz: number;
  pcm: Float32Array<ArrayBuffer>;
  phonemes: PhonemeSpan[];
}

/** Synthesizes `text` as placeholder speech with an exact phoneme timeline. */
export function synthesizeScriptedSpeech(text: string, sampleRateHz: number, speed = 1): ScriptedSpeech {
  const sounds = textToSounds(text, speed);
  if (sounds.length === 0) sounds.push({ ...soundOf('_', 'pause', 1), durationMs: 100 });
  const counts = sounds.map((sound) => Math.max(1, Math.round((sound.durationMs * sampleRateHz) / 1000)));
  const total = counts.reduce((sum, count) => sum + count, 0);
  const pcm = new Float32Array(total);
  const phonemes: PhonemeSpan[] = [];
  const noise = mulberry32(text.length * 2654435761);
  const rampSamples = Math.round(0.005 * sampleRateHz);
  let offset = 0;
  let phase = 0;
  for (let s = 0; s < sounds.length; s++) {
    const sound = sounds[s]!;
    const count = counts[s]!;
    phonemes.push({
      phoneme: sound.phoneme,
      startMs: (offset * 1000) / sampleRateHz,
      endMs: ((offset + count) * 1000) / sampleRateHz,
    });
    const resonators = sound.formantsHz.map((hz, index) => new Resonator(hz, index === 0 ? 90 : 130, sampleRateHz));
    const segment = new Float32Array(count);
    for (let n = 0; n < count; n++) {
      const progress = (offset + n) / total;
      // A falling pitch contour over the chunk, like a declarative sentence.
      const f0Hz = 135 - 25 * progress;
      phase += f0Hz / sampleRateHz;
      if (phase >= 1) phase -= 1;
      const buzz = 1 - 2 * phase;
      switch (sound.soundClass) {
        case 'vowel':
        case 'nasal':
        case 'liquid':
          for (const resonator of resonators) segment[n]! += resonator.step(buzz);
          break;
        case 'fricative':
          segment[n] = resonators[0]!.step(noise() * 2 - 1);
          break;
        case 'plosive':
          // Closure (silence), then a short decaying noise burst.
          segment[n] = n > count * 0.6 ? (noise() * 2 - 1) * (1 - (n - count * 0.6) / (count * 0.4)) : 0;
          break;
        case 'pause':
          break;
      }
    }
    // Each class at its own loudness, whatever the resonators' gain at these frequencies.
    let energy = 0;
    for (const sample of segment) energy += sample * sample;
    const rms = Math.sqrt(energy / count);
    const gain = rms > 0 ? TARGET_RMS[sound.soundClass] / rms : 0;
    for (let n = 0; n < count; n++) {
      const envelope = Math.min(1, n / rampSamples, (count - n) / rampSamples);
      pcm[offset + n] = Math.max(-1, Math.min(1, segment[n]! * gain * envelope));
    }
    offset += count;
  }
  return { sampleRateHz, pcm, phonemes };
}
