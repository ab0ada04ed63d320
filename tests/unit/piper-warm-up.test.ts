import { describe, expect, it } from 'vitest';
import { WARM_UP_TEXTS } from '../../app/native-workers/piper/piper-engine';
import { ClauseChunker, defaultChunkerOptions } from '../../app/engine/pipeline/clause-chunker';
import { PiperPhonemizer, type PiperToken } from '../../app/native-workers/piper/piper-phonemizer';
import { MAX_SENTENCE_CODEPOINTS, splitLongSentence } from '../../app/native-workers/piper/piper-voice';

describe('the Piper warm-up', () => {
  it('ends with one sentence as long as the longest chunk the reply chunker makes, so the arena grows at load', () => {
    const longest = WARM_UP_TEXTS.at(-1)!;
    const words = longest.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(2 * defaultChunkerOptions.longChunkWords);
    // One sentence: Piper runs the model once per sentence, so the whole phrase is one input.
    expect(longest.slice(0, -1)).not.toMatch(/[.!?…]/);
    // However long a reply runs on without a mark, no chunk of it is longer.
    const chunker = new ClauseChunker();
    const rambling = Array.from({ length: 200 }, (_, index) => ['and', 'then', 'the', 'little', 'robot', 'kept', 'walking'][index % 7]).join(' ');
    const chunks = [...chunker.push(`Well, ${rambling} `), ...chunker.flush()];
    expect(chunks.length).toBeGreaterThan(3);
    expect(Math.max(...chunks.map((chunk) => chunk.split(/\s+/).length))).toBeLessThanOrEqual(words);
  });
});

describe('Piper inputs of bounded length', () => {
  const token = (kind: PiperToken['kind'], text: string): PiperToken => ({ kind, text, codepoints: [...text] });
  const words = (...list: string[]): PiperToken[] => list.flatMap((word, index) => [...(index > 0 ? [token('space', ' ')] : []), ...[...word].map((letter) => token('phoneme', letter))]);

  it('leaves a sentence within the limit whole', () => {
    const sentence = [...words('ab', 'cd'), token('punctuation', '.')];
    expect(splitLongSentence(sentence, 10)).toEqual([sentence]);
  });

  it('cuts a longer one at word boundaries into pieces within the limit, losing no phoneme', () => {
    const sentence = [...words('abc', 'de', 'fgh', 'ij', 'klmn', 'o'), token('punctuation', '.')];
    const pieces = splitLongSentence(sentence, 8);
    expect(pieces.map((piece) => piece.map((t) => t.text).join(''))).toEqual(['abc de', 'fgh ij', 'klmn o.']);
    for (const piece of pieces) expect(piece.reduce((sum, t) => sum + t.codepoints.length, 0)).toBeLessThanOrEqual(8);
    expect(pieces.flat().filter((t) => t.kind === 'phoneme').length).toBe(sentence.filter((t) => t.kind === 'phoneme').length);
  });

  it('cuts a single word longer than the limit where it reaches it', () => {
    const pieces = splitLongSentence(words('abcdefghij'), 4);
    expect(pieces.map((piece) => piece.map((t) => t.text).join(''))).toEqual(['abcd', 'efgh', 'ij']);
  });

  it("the warm-up's longest phrase fills one input to the limit, so the arena grows at load", async () => {
    const phonemizer = await PiperPhonemizer.create();
    phonemizer.setVoice('en-us');
    const sentences = phonemizer.phonemize(WARM_UP_TEXTS.at(-1)!);
    expect(sentences).toHaveLength(1);
    const pieces = splitLongSentence(sentences[0]!);
    expect(pieces.length).toBeGreaterThan(1);
    const first = pieces[0]!.reduce((sum, t) => sum + t.codepoints.length, 0);
    expect(first).toBeLessThanOrEqual(MAX_SENTENCE_CODEPOINTS);
    expect(first).toBeGreaterThanOrEqual(0.9 * MAX_SENTENCE_CODEPOINTS);
  });
});
