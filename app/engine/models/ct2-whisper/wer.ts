/** Word error rate: word-level Levenshtein distance / reference word count, after normalization. */

/** Lowercases, drops thousands separators (1,000 = 1000, as Whisper's normalizer does) and punctuation (keeping intra-word apostrophes), splits on whitespace. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/(\d),(?=\d{3}(?!\d))/g, '$1')
    .replace(/[’‘]/g, "'")
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 0);
}

export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words; 0 when both are empty */
  wer: number;
  edits: number;
  referenceWords: number;
}

export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const ref = normalizeWords(reference);
  const hyp = normalizeWords(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  const edits = previous[hyp.length] ?? 0;
  const wer = ref.length === 0 ? (hyp.length === 0 ? 0 : Infinity) : edits / ref.length;
  return { wer, edits, referenceWords: ref.length };
}
