import type { Viseme } from '../phoneme.contract';

/**
 * Phoneme → Oculus viseme(s). Accepts IPA (as the embedded eSpeak voice reports it), eSpeak's ASCII
 * phoneme mnemonics (case-sensitive: "S" is ʃ, "T" is θ, "aI" is a diphthong) and two-letter ARPAbet
 * ("AA1", "SH"). Stress marks, length marks, stress digits, tie bars, diacritics and modifier letters
 * are ignored. A symbol that spans two mouth shapes (diphthongs, r-coloured vowels, syllabic "əl")
 * yields two visemes; affricates ("tʃ", "dZ", "t͡s") yield one. Unknown symbols never throw: a
 * symbol with no letters is silence, an unknown letter a neutral half-open "E".
 */

/** Labels that mean "no speech". */
const SILENCE_LABELS = new Set(['', 'sil', 'sp', 'spn', 'pau', 'SIL', 'SP', '_', '#', '|', '||', '-']);

/** IPA segments and eSpeak mnemonics (case-sensitive), longest match first during tokenizing. */
const SEGMENTS = new Map<string, Viseme>();

function add(viseme: Viseme, symbols: string): void {
  for (const symbol of symbols.split(' ')) SEGMENTS.set(symbol, viseme);
}

// IPA consonants by place and manner; affricates as one segment.
add('PP', 'p b m ɓ ʙ ɸ β');
add('FF', 'f v ʋ ɱ');
add('TH', 'θ ð');
add('DD', 't d ɾ ʈ ɖ ɗ ɽ');
add('kk', 'k g ɡ ŋ x ɣ q ɢ χ ħ ʕ h ɦ ʔ ɠ ʛ ɰ');
add('CH', 'tʃ dʒ tɕ dʑ ʈʂ ɖʐ ʃ ʒ ɕ ʑ ʂ ʐ ç ʝ c ɟ');
add('SS', 's z ts dz');
add('nn', 'n l ɲ ɳ ɫ ʎ ɬ ɮ ɭ ʟ ɺ ɴ');
add('RR', 'r ɹ ɻ ʁ ʀ ɚ ɝ');
// IPA vowels and glides by openness and rounding.
add('aa', 'a ɑ æ ʌ ɐ ä ɶ');
add('E', 'e ɛ ə ɘ ɜ ɞ ɤ');
add('ih', 'i ɪ ɨ ᵻ ɯ j');
add('oh', 'o ɔ ɒ ɵ ø œ');
add('ou', 'u ʊ ʉ y ʏ w ɥ ʍ');
// eSpeak ASCII mnemonics that differ from IPA (lower-case letters above already match).
add('TH', 'T D');
add('CH', 'S Z tS dZ C');
add('kk', 'N ?');
add('aa', 'A V &');
add('E', '@ 3');
add('ih', 'I');
add('oh', 'O 0');
add('ou', 'U');

/** Two-letter ARPAbet phones (CMUdict), checked only for all-caps symbols. */
const ARPABET: Record<string, readonly Viseme[]> = {
  AA: ['aa'], AE: ['aa'], AH: ['aa'], AO: ['oh'], AW: ['aa', 'ou'], AY: ['aa', 'ih'],
  EH: ['E'], ER: ['RR'], EY: ['E', 'ih'], IH: ['ih'], IY: ['ih'], OW: ['oh', 'ou'], OY: ['oh', 'ih'],
  UH: ['ou'], UW: ['ou'], CH: ['CH'], JH: ['CH'], SH: ['CH'], ZH: ['CH'], TH: ['TH'], DH: ['TH'],
  NG: ['kk'], HH: ['kk'], DX: ['DD'], EL: ['E', 'nn'], EM: ['E', 'PP'], EN: ['E', 'nn'],
};

const LONGEST_SEGMENT = Math.max(...[...SEGMENTS.keys()].map((symbol) => [...symbol].length));

/**
 * What carries no mouth shape of its own: IPA stress (ˈˌ) and length (ː ˑ) marks, eSpeak stress
 * (' ,) and length (:) marks and variant suffixes (# / -), combining diacritics and tie bars
 * (U+0300–U+036F), and superscript modifier letters (ʰ ʷ ʲ ˠ ˤ ⁿ ˡ).
 */
const DECORATION = /['’,:#/\-\u02b0-\u02ff\u1d2c-\u1d6a\u2070-\u209f]|\p{M}/gu;
/** Stress digits (ARPAbet "AA1") and eSpeak variant digits ("@2"); a leading "0" is eSpeak's ɒ. */
const DIGITS_AFTER_FIRST = /(?<=.)[0-9]/gu;

function tokenize(symbol: string): Viseme[] {
  const chars = [...symbol];
  const visemes: Viseme[] = [];
  for (let index = 0; index < chars.length; ) {
    let matched = false;
    for (let length = Math.min(LONGEST_SEGMENT, chars.length - index); length >= 1; length--) {
      const viseme = SEGMENTS.get(chars.slice(index, index + length).join(''));
      if (viseme) {
        if (visemes.at(-1) !== viseme) visemes.push(viseme);
        index += length;
        matched = true;
        break;
      }
    }
    if (!matched) {
      if (/\p{L}/u.test(chars[index]!) && visemes.at(-1) !== 'E') visemes.push('E');
      index++;
    }
  }
  return visemes;
}

/**
 * The mouth shapes of one phoneme symbol, in order: one for most phonemes, two for diphthongs and
 * r-coloured or syllabic vowels (onset shape, then the glide's target). Never empty, never throws.
 */
export function phonemeToVisemes(symbol: string): readonly Viseme[] {
  const trimmed = symbol.trim();
  if (SILENCE_LABELS.has(trimmed)) return ['sil'];
  const bare = trimmed.normalize('NFD').replace(DECORATION, '').replace(DIGITS_AFTER_FIRST, '');
  if (bare === '') return ['sil'];
  const arpabet = /^[A-Z]{2}$/u.test(bare) ? ARPABET[bare] : undefined;
  if (arpabet) return arpabet;
  const visemes = tokenize(bare);
  if (visemes.length === 0) return ['sil'];
  return visemes.length <= 2 ? visemes : [visemes[0]!, visemes.at(-1)!];
}

/** The main mouth shape of one phoneme symbol (the first of `phonemeToVisemes`). */
export function phonemeToViseme(symbol: string): Viseme {
  return phonemeToVisemes(symbol)[0]!;
}
