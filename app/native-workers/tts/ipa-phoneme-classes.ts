/**
 * Broad classes of IPA phonemes, as far as timing needs them: which phonemes are stops (their
 * closure is silent), and how long each class typically lasts relative to the others.
 */

/** The label of a span with no speech (leading/trailing silence, pauses). */
export const SILENCE_PHONEME = 'sil';

const STRESS_MARKS = /[ˈˌ]/gu;

/** Removes stress marks: "ˈaɪ" → "aɪ"; an empty result is silence. */
export function normalizePhoneme(symbol: string): string {
  const bare = symbol.replace(STRESS_MARKS, '').trim();
  return bare === '' || bare === '_' ? SILENCE_PHONEME : bare;
}

const STOP_ONSETS = new Set(['p', 'b', 't', 'd', 'k', 'g', 'ɡ', 'ʔ', 'c', 'ɟ', 'q', 'ʈ', 'ɖ']);
const VOWEL_LETTERS = new Set([...'aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏ']);
const FRICATIVES = new Set([...'fvθðszʃʒxɣhçʝχʁħʕɸβ']);

/** True for plosives and affricates (the closure before their burst is silent or nearly so). */
export function isStop(phoneme: string): boolean {
  const first = phoneme.normalize('NFD').charAt(0);
  return STOP_ONSETS.has(first);
}

/** True when the phoneme contains a vowel letter (monophthongs, diphthongs, syllabic "əl"). */
export function isVowel(phoneme: string): boolean {
  return [...phoneme.normalize('NFD')].some((char) => VOWEL_LETTERS.has(char));
}

/**
 * Typical duration of a phoneme relative to a short consonant (1.0), from its class and length
 * mark; used to spread a known audio duration over a phoneme sequence when no timing is known.
 */
export function expectedDurationWeight(phoneme: string): number {
  if (phoneme === SILENCE_PHONEME) return 1.5;
  const long = phoneme.includes('ː');
  if (isVowel(phoneme)) {
    const diphthong = [...phoneme.normalize('NFD')].filter((char) => VOWEL_LETTERS.has(char)).length > 1;
    return (diphthong ? 2.2 : 1.6) * (long ? 1.3 : 1);
  }
  if (FRICATIVES.has(phoneme.charAt(0))) return 1.3;
  if (isStop(phoneme)) return 1.1;
  return 0.9;
}
