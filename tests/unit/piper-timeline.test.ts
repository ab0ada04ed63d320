import { describe, expect, it } from 'vitest';
import { clauseTokens, type PiperToken } from '../../app/native-workers/piper/piper-phonemizer';
import { BOS_OWNER, DEFAULT_TIMELINE_RULES, EOS_OWNER, sentenceIds, sentenceSpans, type TimelineRules } from '../../app/native-workers/piper/piper-timeline';

const UPSTREAM: TimelineRules = { ...DEFAULT_TIMELINE_RULES, padTo: 'previous' };

const HOP = 256;
/** Piper's default ids for the symbols used here. */
const ID_MAP = new Map<string, number[]>(
  Object.entries({ _: [0], '^': [1], $: [2], ' ': [3], '!': [4], ',': [8], '.': [10], a: [14], b: [15], m: [25], p: [28], t: [32], 'ˈ': [120], 'ː': [122], ə: [59], ɪ: [74] }).map(
    ([symbol, ids]) => [symbol, ids],
  ),
);

function sentence(ipa: string, terminator = '.'): PiperToken[] {
  return [...clauseTokens(ipa), { kind: 'punctuation', text: terminator, codepoints: [terminator] }];
}

describe('Piper ids of a sentence', () => {
  it('is ^ _ (id _)… $ with the token owning each id and the pad after it', () => {
    const tokens = sentence('b_ˈaː');
    const { ids, owners, pads, missing } = sentenceIds(tokens, ID_MAP);
    expect(ids).toEqual([1, 0, 15, 0, 120, 0, 14, 0, 122, 0, 10, 0, 2]);
    expect(owners).toEqual([BOS_OWNER, BOS_OWNER, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, EOS_OWNER]);
    expect(pads).toEqual(ids.map((id, index) => id === 0 && index > 0));
    expect(missing).toEqual([]);
  });

  it('skips codepoints the voice does not know, as Piper does', () => {
    const { ids, missing } = sentenceIds(sentence('b_ʘ_a'), ID_MAP);
    expect(ids).toEqual([1, 0, 15, 0, 14, 0, 10, 0, 2]);
    expect(missing).toEqual(['ʘ']);
  });
});

describe('Piper timeline from the voice’s frames', () => {
  it('tiles the audio exactly: each phoneme with the pad before it; punctuation and EOS → one sil', () => {
    const tokens = sentence('b_ˈaː');
    const sequence = sentenceIds(tokens, ID_MAP);
    //             ^  _  b  _  ˈ  _  a  _  ː  _  .  _  $
    const frames = [2, 1, 3, 1, 1, 0, 6, 1, 2, 1, 5, 1, 4];
    const spans = sentenceSpans(tokens, sequence, frames, HOP);
    expect(spans).toEqual([
      { phoneme: 'sil', startSample: 0, endSample: 2 * HOP },
      { phoneme: 'b', startSample: 2 * HOP, endSample: 6 * HOP },
      { phoneme: 'aː', startSample: 6 * HOP, endSample: 17 * HOP },
      { phoneme: 'sil', startSample: 17 * HOP, endSample: 28 * HOP },
    ]);
    expect(spans.at(-1)!.endSample).toBe(frames.reduce((sum, count) => sum + count, 0) * HOP);
  });

  it('gives each phoneme the pad after it under upstream Piper’s rule', () => {
    const tokens = sentence('b_ˈaː');
    const sequence = sentenceIds(tokens, ID_MAP);
    const frames = [2, 1, 3, 1, 1, 0, 6, 1, 2, 1, 5, 1, 4];
    expect(sentenceSpans(tokens, sequence, frames, HOP, 0, UPSTREAM)).toEqual([
      { phoneme: 'sil', startSample: 0, endSample: 3 * HOP },
      { phoneme: 'b', startSample: 3 * HOP, endSample: 7 * HOP },
      { phoneme: 'aː', startSample: 7 * HOP, endSample: 18 * HOP },
      { phoneme: 'sil', startSample: 18 * HOP, endSample: 28 * HOP },
    ]);
  });

  it('gives a short word space to a following stop (closure) or else to the phoneme before it; a long one is sil', () => {
    const tokens = sentence('m_ə ɪ_t b_ə');
    const sequence = sentenceIds(tokens, ID_MAP);
    //             ^  _  m  _  ə  _  ␣  _  ɪ  _  t  _  ␣  _  b  _  ə  _  .  _  $
    const frames = [1, 1, 2, 1, 3, 1, 2, 1, 3, 1, 2, 1, 3, 1, 2, 1, 3, 1, 1, 1, 1];
    const short = sentenceSpans(tokens, sequence, frames, HOP, 0, UPSTREAM);
    expect(short.map((span) => [span.phoneme, (span.endSample - span.startSample) / HOP])).toEqual([
      ['sil', 2],
      ['m', 3],
      ['ə', 7], // ə + the space before the vowel ɪ
      ['ɪ', 4],
      ['t', 3],
      ['b', 7], // the space before b is b's closure
      ['ə', 4],
      ['sil', 3],
    ]);

    const long = [...frames];
    long[6] = 9; // a 9-frame space: a pause
    expect(sentenceSpans(tokens, sequence, long, HOP, 0, UPSTREAM).map((span) => span.phoneme)).toEqual(['sil', 'm', 'ə', 'sil', 'ɪ', 't', 'b', 'ə', 'sil']);
  });

  it('makes the space after a comma part of its pause, and shifts by the sentence offset', () => {
    const tokens: PiperToken[] = [...clauseTokens('m_ə'), { kind: 'punctuation', text: ',', codepoints: [','] }, ...clauseTokens(' b_ə')];
    const sequence = sentenceIds(tokens, ID_MAP);
    //             ^  _  m  _  ə  _  ,  _  ␣  _  b  _  ə  _  $
    const frames = [1, 1, 2, 1, 3, 1, 4, 1, 2, 1, 2, 1, 3, 1, 2];
    const spans = sentenceSpans(tokens, sequence, frames, HOP, 1000, UPSTREAM);
    expect(spans.map((span) => span.phoneme)).toEqual(['sil', 'm', 'ə', 'sil', 'b', 'ə', 'sil']);
    expect(spans[0]!.startSample).toBe(1000);
    expect(spans[3]).toEqual({ phoneme: 'sil', startSample: 1000 + 9 * HOP, endSample: 1000 + 17 * HOP });
    spans.forEach((span, index) => index > 0 && expect(span.startSample).toBe(spans[index - 1]!.endSample));
  });

  it('rejects durations that do not match the ids', () => {
    const tokens = sentence('a');
    const sequence = sentenceIds(tokens, ID_MAP);
    expect(() => sentenceSpans(tokens, sequence, [1, 1, 1], HOP)).toThrow(/3 durations for 7 phoneme ids/);
    expect(() => sentenceSpans(tokens, sequence, [1, 1, 1.5, 1, 1, 1, 1], HOP)).toThrow(/not a whole number/);
  });
});
