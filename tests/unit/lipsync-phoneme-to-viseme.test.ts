import { describe, expect, it } from 'vitest';
import { phonemeToViseme, phonemeToVisemes } from '../../app/shared/lipsync/phoneme-to-viseme';
import { visemeAt, visemeSpansFromPhonemes } from '../../app/shared/lipsync/viseme-spans';
import { VISEMES } from '../../app/shared/phoneme.contract';

describe('phoneme → viseme', () => {
  it.each([
    // IPA consonants, one per viseme class
    ['p', 'PP'], ['b', 'PP'], ['m', 'PP'],
    ['f', 'FF'], ['v', 'FF'],
    ['θ', 'TH'], ['ð', 'TH'],
    ['t', 'DD'], ['d', 'DD'], ['ɾ', 'DD'],
    ['k', 'kk'], ['ɡ', 'kk'], ['g', 'kk'], ['ŋ', 'kk'], ['h', 'kk'], ['ʔ', 'kk'],
    ['ʃ', 'CH'], ['ʒ', 'CH'], ['tʃ', 'CH'], ['dʒ', 'CH'], ['t͡ʃ', 'CH'], ['ç', 'CH'],
    ['s', 'SS'], ['z', 'SS'], ['ts', 'SS'],
    ['n', 'nn'], ['l', 'nn'], ['ɫ', 'nn'],
    ['ɹ', 'RR'], ['r', 'RR'], ['ɚ', 'RR'], ['ʁ', 'RR'],
    // IPA vowels and glides
    ['ɑ', 'aa'], ['æ', 'aa'], ['ʌ', 'aa'], ['ɐ', 'aa'],
    ['ɛ', 'E'], ['ə', 'E'], ['e', 'E'],
    ['ɪ', 'ih'], ['i', 'ih'], ['ᵻ', 'ih'], ['j', 'ih'],
    ['ɔ', 'oh'], ['o', 'oh'], ['ɒ', 'oh'],
    ['ʊ', 'ou'], ['u', 'ou'], ['w', 'ou'], ['y', 'ou'],
  ] as const)('IPA %s → %s', (phoneme, viseme) => {
    expect(phonemeToVisemes(phoneme)).toEqual([viseme]);
  });

  it('ignores stress marks, length marks, diacritics and modifier letters', () => {
    expect(phonemeToVisemes('ˈiː')).toEqual(['ih']);
    expect(phonemeToVisemes('ˌɑː')).toEqual(['aa']);
    expect(phonemeToVisemes('ɜː')).toEqual(['E']);
    expect(phonemeToVisemes('kʰ')).toEqual(['kk']);
    expect(phonemeToVisemes('ɛ̃')).toEqual(['E']);
    expect(phonemeToVisemes('n̩')).toEqual(['nn']);
    expect(phonemeToVisemes('tʷ')).toEqual(['DD']);
  });

  it('splits diphthongs and r-coloured or syllabic vowels into onset and glide', () => {
    expect(phonemeToVisemes('aɪ')).toEqual(['aa', 'ih']);
    expect(phonemeToVisemes('ˈaʊ')).toEqual(['aa', 'ou']);
    expect(phonemeToVisemes('oʊ')).toEqual(['oh', 'ou']);
    expect(phonemeToVisemes('eɪ')).toEqual(['E', 'ih']);
    expect(phonemeToVisemes('ɔɪ')).toEqual(['oh', 'ih']);
    expect(phonemeToVisemes('ɑːɹ')).toEqual(['aa', 'RR']);
    expect(phonemeToVisemes('ɪə')).toEqual(['ih', 'E']);
    expect(phonemeToVisemes('əl')).toEqual(['E', 'nn']);
    expect(phonemeToVisemes('eə')).toEqual(['E']);
  });

  it('reads eSpeak ASCII mnemonics case-sensitively', () => {
    expect(phonemeToVisemes('S')).toEqual(['CH']);
    expect(phonemeToVisemes('s')).toEqual(['SS']);
    expect(phonemeToVisemes('T')).toEqual(['TH']);
    expect(phonemeToVisemes('D')).toEqual(['TH']);
    expect(phonemeToVisemes('N')).toEqual(['kk']);
    expect(phonemeToVisemes('tS')).toEqual(['CH']);
    expect(phonemeToVisemes('dZ')).toEqual(['CH']);
    expect(phonemeToVisemes("'aI")).toEqual(['aa', 'ih']);
    expect(phonemeToVisemes('oU')).toEqual(['oh', 'ou']);
    expect(phonemeToVisemes('@')).toEqual(['E']);
    expect(phonemeToVisemes('@2')).toEqual(['E']);
    expect(phonemeToVisemes('3:')).toEqual(['E']);
    expect(phonemeToVisemes('A:')).toEqual(['aa']);
    expect(phonemeToVisemes('0')).toEqual(['oh']);
    expect(phonemeToVisemes('I')).toEqual(['ih']);
    expect(phonemeToVisemes('U')).toEqual(['ou']);
  });

  it('reads two-letter ARPAbet with stress digits', () => {
    expect(phonemeToVisemes('AA1')).toEqual(['aa']);
    expect(phonemeToVisemes('AY0')).toEqual(['aa', 'ih']);
    expect(phonemeToVisemes('SH')).toEqual(['CH']);
    expect(phonemeToVisemes('ER0')).toEqual(['RR']);
  });

  it('maps silence labels and symbols without letters to sil, unknown letters to E, and never throws', () => {
    for (const label of ['', ' ', 'sil', 'sp', 'pau', '_', '#', '|', '!', '.', 'ˈ', 'ː']) expect(phonemeToVisemes(label)).toEqual(['sil']);
    expect(phonemeToVisemes('Q')).toEqual(['E']);
    for (const symbol of ['😀', '\u0000', 'ǃ', '123', 'xyzzy', 'ʘ', 'ɧ']) {
      const visemes = phonemeToVisemes(symbol);
      expect(visemes.length).toBeGreaterThanOrEqual(1);
      for (const viseme of visemes) expect(VISEMES).toContain(viseme);
    }
    expect(phonemeToViseme('aɪ')).toBe('aa');
  });
});

describe('viseme spans from phonemes', () => {
  it('splits diphthongs at 60 % and merges neighbours with the same viseme', () => {
    const spans = visemeSpansFromPhonemes([
      { phoneme: 'sil', startMs: 0, endMs: 50 },
      { phoneme: 'b', startMs: 50, endMs: 100 },
      { phoneme: 'm', startMs: 100, endMs: 150 },
      { phoneme: 'aɪ', startMs: 150, endMs: 250 },
      { phoneme: 'ɪ', startMs: 250, endMs: 300 },
      { phoneme: 'x', startMs: 300, endMs: 300 },
    ]);
    expect(spans).toEqual([
      { viseme: 'sil', startMs: 0, endMs: 50 },
      { viseme: 'PP', startMs: 50, endMs: 150 },
      { viseme: 'aa', startMs: 150, endMs: 210 },
      { viseme: 'ih', startMs: 210, endMs: 300 },
    ]);
    expect(visemeAt(spans, 0)).toBe('sil');
    expect(visemeAt(spans, 149.9)).toBe('PP');
    expect(visemeAt(spans, 210)).toBe('ih');
    expect(visemeAt(spans, 300)).toBe('sil');
    expect(visemeAt(spans, -5)).toBe('sil');
  });
});
