import type { Viseme } from '../../shared/phoneme.contract';

/**
 * Phoneme → Oculus viseme. Accepts IPA / eSpeak symbols and ARPAbet (any case, stress digits and
 * marks ignored). Unknown symbols fall back by their first letter, then to a half-open `E`.
 */
const TABLE: Record<string, Viseme> = {};

function add(viseme: Viseme, symbols: string): void {
  for (const symbol of symbols.split(' ')) TABLE[symbol] = viseme;
}

add('sil', 'sil sp spn pau _ # | ||');
add('PP', 'p b m pp bb mm ɱ');
add('FF', 'f v ff vv');
add('TH', 'θ ð th dh');
add('DD', 't d ɾ ʈ ɖ dx tt dd');
add('kk', 'k g ɡ ŋ x ɣ q ɢ ng kk gg h ɦ ʔ hh');
add('CH', 'tʃ dʒ ʃ ʒ tɕ dʑ ɕ ʑ ch jh sh zh c ɟ ç');
add('SS', 's z ss zz ts dz');
add('nn', 'n l ɲ ɳ ɫ ʎ el en em nn ll');
add('RR', 'r ɹ ɻ ʁ ʀ ɚ ɝ er rr');
add('aa', 'a ɑ æ ʌ ɐ ä aa ae ah aw ay');
add('E', 'e ɛ ə ɜ eh ey ee');
add('ih', 'i ɪ j y ɨ ih iy ii');
add('oh', 'o ɔ ɒ ɵ ao ow oy oo');
add('ou', 'u ʊ w ɯ uw uh uu ʉ');

/** Stress and length marks, combining diacritics (U+0300–U+036F) and stress digits. */
const DECORATION = /[\u02c8\u02cc\u02d0\u02d10-9]|[\u0300-\u036f]/g;

/** The Oculus viseme for one phoneme symbol. */
export function phonemeToViseme(phoneme: string): Viseme {
  const symbol = phoneme.trim().toLowerCase().replace(DECORATION, '');
  if (symbol === '') return 'sil';
  const exact = TABLE[symbol];
  if (exact) return exact;
  // Affricates and diphthongs: the first two symbols, then the first one, decide the shape.
  const byPrefix = TABLE[symbol.slice(0, 2)] ?? TABLE[symbol.slice(0, 1)];
  return byPrefix ?? 'E';
}
