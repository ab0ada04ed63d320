import { SILENCE_PHONEME } from './ipa-phoneme-classes';

/**
 * The token sequence sherpa-onnx (1.13.x) feeds a lexicon VITS voice, rebuilt in TypeScript so each
 * token of the produced audio can be labelled: ASCII-lowercased text split into words and
 * punctuation; each known word's tokens followed by the " " separator; ". ; ! ? - :" end a sentence
 * (and add a separator); the last separator of the text is dropped; unknown words are skipped.
 * Separators are labelled "sil"; other tokens keep the lexicon's symbols.
 */

const SENTENCE_BREAKS = new Set(['.', ';', '!', '?', '-', ':']);
const WORD_SEPARATOR = ' ';

/** Reads lexicon.txt ("word token token …"); like sherpa, the first entry of a word wins and entries with unknown tokens are dropped. */
export function parseLexicon(text: string, tokens: ReadonlyMap<string, number>): Map<string, string[]> {
  const lexicon = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [rawWord, ...phones] = line.trim().split(/\s+/u);
    if (!rawWord || phones.length === 0) continue;
    const word = asciiLowerCase(rawWord);
    if (lexicon.has(word) || !phones.every((phone) => tokens.has(phone))) continue;
    lexicon.set(word, phones);
  }
  return lexicon;
}

function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/gu, (char) => char.toLowerCase());
}

/** sherpa's SplitUtf8: runs of letters/digits/apostrophes are words, every other visible character stands alone. */
export function splitWords(text: string): string[] {
  return asciiLowerCase(text).match(/[\p{L}\p{N}'’]+|[^\s\p{L}\p{N}'’]/gu) ?? [];
}

/** The voice's token symbols for `text`, in the order sherpa sends them to the model. */
export function lexiconTokens(text: string, lexicon: ReadonlyMap<string, readonly string[]>, punctuation: ReadonlySet<string>): string[] {
  const sentences: string[][] = [];
  let sentence: string[] = [];
  for (const word of splitWords(text)) {
    if (SENTENCE_BREAKS.has(word) || word === ',') {
      if (punctuation.has(word)) sentence.push(word);
      if (word !== ',') {
        sentence.push(WORD_SEPARATOR);
        sentences.push(sentence);
        sentence = [];
      }
      continue;
    }
    const phones = lexicon.get(word);
    if (!phones) continue;
    sentence.push(...phones, WORD_SEPARATOR);
  }
  if (sentence.length > 0) sentences.push(sentence.slice(0, -1));
  return sentences.flat();
}

/** Token symbols → phoneme labels ("sil" for the word separator). */
export function tokensToPhonemes(tokens: readonly string[]): string[] {
  return tokens.map((token) => (token === WORD_SEPARATOR ? SILENCE_PHONEME : token));
}
