import { describe, expect, it } from 'vitest';
import { normalizeWords, wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';

describe('word error rate', () => {
  it('normalizes case, punctuation and apostrophes', () => {
    expect(normalizeWords('  And so, my fellow Americans: ask NOT!  ')).toEqual(['and', 'so', 'my', 'fellow', 'americans', 'ask', 'not']);
    expect(normalizeWords("Don’t stop — it's 'quoted' 3.5")).toEqual(["don't", 'stop', "it's", 'quoted', '3', '5']);
    // Thousands separators are formatting, not words: "1,000" is the "1000" the voice was given.
    expect(normalizeWords('1,000 legs, 12,345,678 eggs, 1,2')).toEqual(['1000', 'legs', '12345678', 'eggs', '1', '2']);
    expect(normalizeWords('')).toEqual([]);
  });

  it('is zero for the same words regardless of punctuation', () => {
    const reference = 'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
    const hypothesis = ' And so my fellow Americans ask not what your country can do for you ask what you can do for your country.';
    expect(wordErrorRate(reference, hypothesis)).toEqual({ wer: 0, edits: 0, referenceWords: 22 });
  });

  it('counts substitutions, deletions and insertions', () => {
    expect(wordErrorRate('the cat sat on the mat', 'the cat sat on a mat').edits).toBe(1);
    expect(wordErrorRate('the cat sat on the mat', 'the cat sat on the mat today').edits).toBe(1);
    expect(wordErrorRate('the cat sat on the mat', 'cat sat on mat').edits).toBe(2);
    expect(wordErrorRate('a b c d', 'x a b c d y')).toEqual({ wer: 0.5, edits: 2, referenceWords: 4 });
    expect(wordErrorRate('one two three', '').wer).toBe(1);
    expect(wordErrorRate('abc', 'b a c').edits).toBe(3);
  });

  it('handles an empty reference', () => {
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('...', 'words').wer).toBe(Infinity);
  });
});
