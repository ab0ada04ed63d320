import { SILENCE_PHONEME, isStop, normalizePhoneme } from '../tts/ipa-phoneme-classes';
import type { SampleSpan } from '../tts/phoneme-timeline';
import type { PiperToken } from './piper-phonemizer';
import { BOS, EOS, PAD } from './piper-voice-config';

/**
 * Phoneme ids of one sentence and the timeline the voice's durations give them.
 *
 * Ids (Piper `phonemes_to_ids`): `^`, `_`, then every codepoint's ids each followed by `_`, then
 * `$`. The voice returns, per id, a whole number of frames of `hop_length` samples, and the audio
 * is exactly their sum. A token (one eSpeak phoneme with its stress and length marks, a word
 * space, a punctuation mark) gets its codepoints' ids and the pads between them, and one pad at
 * its edge: by default the pad before it (`padTo: 'next'`), as the pad's frames are the transition
 * into the next phoneme; upstream Piper's alignments (`padTo: 'previous'`) give each phoneme the
 * pad after it instead. Measured on the dev voice (joe, medium; bench sentences): the energy
 * contrast between vowel and stop spans is 20.3 dB with the pad-before rule and 14.8 dB with the
 * pad-after rule; with pad-after the contrast peaks when the spans are moved 1.5 frames (17 ms)
 * earlier, with pad-before it peaks where they are. The spans tile the audio sample-exactly either
 * way:
 *
 * - `^` (and, with `padTo: 'previous'`, its pad) → "sil" (the voice's lead-in); `$` → "sil";
 * - punctuation → "sil" (the pause the voice makes for it), merged with neighbouring silence;
 * - a word space → "sil" when it lasts at least `minPauseFrames` (a real pause between words);
 *   a shorter one is the closure of a following stop (its lips or tongue are already closed),
 *   otherwise the transition out of the phoneme before it (a phoneme lasts until the next starts);
 * - eSpeak phonemes → their IPA without stress marks (labels as the eSpeak voice reports them).
 */

/** Owner of an id: the index of its token, or BOS_OWNER / EOS_OWNER. */
export const BOS_OWNER = -1;
export const EOS_OWNER = -2;

export interface SentenceIds {
  ids: number[];
  /** Per id, the token it belongs to (with the pad after it, as upstream), or BOS_OWNER / EOS_OWNER. */
  owners: number[];
  /** Per id, whether it is a pad. */
  pads: boolean[];
  /** Codepoints the voice's map lacks (Piper skips them too). */
  missing: string[];
}

/** Piper's id sequence for one sentence, with the token each id belongs to. */
export function sentenceIds(tokens: readonly PiperToken[], idMap: ReadonlyMap<string, readonly number[]>): SentenceIds {
  const pad = idMap.get(PAD)!;
  const ids: number[] = [];
  const owners: number[] = [];
  const pads: boolean[] = [];
  const missing: string[] = [];
  const push = (values: readonly number[], owner: number, isPad = false): void => {
    for (const value of values) {
      ids.push(value);
      owners.push(owner);
      pads.push(isPad);
    }
  };
  push(idMap.get(BOS)!, BOS_OWNER);
  push(pad, BOS_OWNER, true);
  tokens.forEach((token, index) => {
    for (const codepoint of token.codepoints) {
      const values = idMap.get(codepoint);
      if (!values) {
        missing.push(codepoint);
        continue;
      }
      push(values, index);
      push(pad, index, true);
    }
  });
  push(idMap.get(EOS)!, EOS_OWNER);
  return { ids, owners, pads, missing };
}

export interface TimelineRules {
  /** Which neighbour a pad's frames belong to: the phoneme after it, or (upstream Piper) before it. */
  padTo: 'next' | 'previous';
  /** A word space of at least this many frames is a pause ("sil"). */
  minPauseFrames: number;
}

/** 8 frames of 256 samples at 22.05 kHz ≈ 93 ms: shorter word gaps are transitions, not pauses. */
export const DEFAULT_TIMELINE_RULES: TimelineRules = { padTo: 'next', minPauseFrames: 8 };

/** A labelled run of frames before word spaces are resolved. */
interface Run {
  kind: 'phoneme' | 'silence' | 'space';
  label: string;
  frames: number;
}

/** Frames per owner, in order (an owner's ids are contiguous), labelled. */
function labelledRuns(tokens: readonly PiperToken[], sequence: SentenceIds, frames: ArrayLike<number>, padTo: TimelineRules['padTo']): Run[] {
  const runs: (Run & { owner: number })[] = [];
  sequence.owners.forEach((ownerBefore, index) => {
    // A pad is always followed by a codepoint's id or by `$`.
    const owner = padTo === 'next' && sequence.pads[index] ? sequence.owners[index + 1]! : ownerBefore;
    const count = frames[index]!;
    if (!Number.isInteger(count) || count < 0) throw new Error(`duration ${count} of id ${index} is not a whole number of frames`);
    const last = runs.at(-1);
    if (last && last.owner === owner) {
      last.frames += count;
      return;
    }
    const token = owner >= 0 ? tokens[owner]! : undefined;
    const kind = token?.kind === 'phoneme' ? 'phoneme' : token?.kind === 'space' ? 'space' : 'silence';
    runs.push({ owner, kind, label: token?.kind === 'phoneme' ? normalizePhoneme(token.text) : SILENCE_PHONEME, frames: count });
  });
  return runs;
}

/**
 * Gives each short word space to a neighbour: to the next phoneme when that is a stop (the silent
 * gap is its closure), otherwise to the phoneme before it. A long space, or one after silence
 * (", " after the comma's pause), is silence.
 */
function resolveSpaces(runs: readonly Run[], rules: TimelineRules): Run[] {
  const resolved: Run[] = runs.map((run) => ({ ...run }));
  resolved.forEach((run, index) => {
    if (run.kind !== 'space') return;
    const before = resolved[index - 1];
    const after = resolved[index + 1];
    if (run.frames >= rules.minPauseFrames || before?.kind !== 'phoneme') {
      run.kind = 'silence';
      run.label = SILENCE_PHONEME;
    } else if (after?.kind === 'phoneme' && isStop(after.label)) {
      after.frames += run.frames;
      run.frames = 0;
    } else {
      before.frames += run.frames;
      run.frames = 0;
    }
  });
  return resolved;
}

/**
 * The sentence's spans from its durations (frames per id). Spans are contiguous from
 * `offsetSample` to `offsetSample` + Σ frames × hop (a sentence after others in the same chunk).
 */
export function sentenceSpans(
  tokens: readonly PiperToken[],
  sequence: SentenceIds,
  frames: ArrayLike<number>,
  hopLength: number,
  offsetSample = 0,
  rules: TimelineRules = DEFAULT_TIMELINE_RULES,
): SampleSpan[] {
  if (frames.length !== sequence.ids.length) {
    throw new Error(`the voice returned ${frames.length} durations for ${sequence.ids.length} phoneme ids`);
  }
  const spans: SampleSpan[] = [];
  let cursor = offsetSample;
  for (const run of resolveSpaces(labelledRuns(tokens, sequence, frames, rules.padTo), rules)) {
    const length = run.frames * hopLength;
    if (length === 0) continue;
    const last = spans.at(-1);
    if (last && last.phoneme === SILENCE_PHONEME && run.label === SILENCE_PHONEME) last.endSample += length;
    else spans.push({ phoneme: run.label, startSample: cursor, endSample: cursor + length });
    cursor += length;
  }
  return spans;
}
