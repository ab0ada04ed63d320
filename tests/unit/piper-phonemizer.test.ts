import { beforeAll, describe, expect, it } from 'vitest';
import { PiperPhonemizer, clauseTokens, splitClauses, tokensToPiperString } from '../../app/native-workers/piper/piper-phonemizer';

const clausesOf = (text: string): string[] =>
  splitClauses(text).map((clause) => `${clause.text.trim()}|${clause.terminator}${clause.endsSentence ? '#' : ''}`);

describe('clause splitting as eSpeak NG ends its clauses', () => {
  it('ends clauses at . ? ! , : ; followed by a space or the end; sentences at . ? !', () => {
    expect(clausesOf('Hello, world. How are you? Fine! Yes: no; maybe')).toEqual([
      'Hello,|,',
      'world.|.#',
      'How are you?|?#',
      'Fine!|!#',
      'Yes:|:',
      'no;|;',
      'maybe|#',
    ]);
  });

  it('keeps abbreviations, decimals and glued punctuation inside the clause', () => {
    expect(clausesOf('e.g. this one. i.e. that')).toEqual(['e.g. this one. i.e. that|#']);
    expect(clausesOf('It costs 3.5 dollars.')).toEqual(['It costs 3.5 dollars.|.#']);
    expect(clausesOf('one,two, three')).toEqual(['one,two,|,', 'three|#']);
    expect(clausesOf('Hello.world')).toEqual(['Hello.world|#']);
  });

  it('treats quotes and brackets after punctuation like a space; dashes as ";"; ellipsis as no terminator', () => {
    expect(clausesOf('He said "yes." Then he left.')).toEqual(['He said "yes.|.#', '" Then he left.|.#']);
    expect(clausesOf('stop — go')).toEqual(['stop —|;', 'go|#']);
    expect(clausesOf('Wait... what?')).toEqual(['Wait...|', 'what?|?#']);
    expect(clausesOf('Wait…what')).toEqual(['Wait…|', 'what|#']);
  });

  it('ends a sentence at a blank line, not at a single newline', () => {
    expect(clausesOf('line one\nline two')).toEqual(['line one\nline two|#']);
    expect(clausesOf('para one\n\npara two')).toEqual(['para one|#', 'para two|#']);
    expect(clausesOf('no.\nnext')).toEqual(['no.|.#', 'next|#']);
  });
});

describe('eSpeak phonemes → Piper tokens', () => {
  it('keeps each separated phoneme together, word spaces as tokens, language flags dropped', () => {
    const tokens = clauseTokens('h_ə_l_ˈoʊ w_ˈɜː_l_d (fr)b_ˈõ(en)');
    expect(tokens.map((token) => token.text)).toEqual(['h', 'ə', 'l', 'ˈoʊ', ' ', 'w', 'ˈɜː', 'l', 'd', ' ', 'b', 'ˈõ']);
    expect(tokens.find((token) => token.text === 'ˈõ')!.codepoints).toEqual(['ˈ', 'o', '\u0303']);
    expect(tokensToPiperString(tokens)).toBe('həlˈoʊ wˈɜːld bˈo\u0303');
  });
});

describe('Piper phonemizer on the embedded eSpeak NG', () => {
  let phonemizer: PiperPhonemizer;

  beforeAll(async () => {
    phonemizer = await PiperPhonemizer.create();
    phonemizer.setVoice('en-us');
  });

  it('produces Piper’s strings: terminators appended, a space after commas, one list per sentence', () => {
    const sentences = phonemizer.phonemize('Hello, world. How are you? Bob met Pam by the map!');
    expect(sentences.map(tokensToPiperString)).toEqual(['həlˈoʊ, wˈɜːld.', 'hˈaʊ ɑːɹ juː?', 'bˈɑːb mˈɛt pˈæm baɪ ðə mˈæp!']);
    const first = sentences[0]!;
    expect(first.filter((token) => token.kind === 'punctuation').map((token) => token.text)).toEqual([',', '.']);
    expect(first.every((token) => token.codepoints.join('') === token.codepoints.join('').normalize('NFD'))).toBe(true);
  });

  it('splits where eSpeak itself ends clauses (same clause count as eSpeak on the whole text)', () => {
    const texts = [
      'Hello, world. How are you? Fine! Mr. Smith said: yes; no.',
      'stop — go',
      'He said "yes." Then he left.',
      'Wait... what?',
      'e.g. this one. i.e. that',
      'It costs 3.5 dollars.',
      'end (yes). Next',
      'one,two, three',
      'U.S.A. is big',
      'no.\nNext line',
      'para one\n\npara two',
      'The end. and more',
      '"Quoted." Next',
      'So... I think—maybe—yes.',
      "It's 5 p.m. Now.",
    ];
    for (const text of texts) expect([text, splitClauses(text).length]).toEqual([text, phonemizer.separatedIpa(text).split(' | ').length]);
  });

  it('returns no sentence for text with nothing to say, and rejects unknown eSpeak voices', () => {
    expect(phonemizer.phonemize(' ... ')).toEqual([]);
    expect(phonemizer.phonemize('\n\n')).toEqual([]);
    expect(() => phonemizer.setVoice('no-such-voice')).toThrow(/no voice named/);
  });
});
