import { describe, expect, it } from 'vitest';
import { ClauseChunker, defaultChunkerOptions } from '../../app/engine/pipeline/clause-chunker';

/** Feeds `text` as an LLM would (word-sized deltas) and returns every chunk released. */
function chunkStreamed(text: string, options = defaultChunkerOptions): { chunks: string[]; releasedAfterDelta: number[] } {
  const chunker = new ClauseChunker(options);
  const chunks: string[] = [];
  const releasedAfterDelta: number[] = [];
  const deltas = text.match(/\s*\S+/g) ?? [];
  deltas.forEach((delta, index) => {
    for (const chunk of chunker.push(delta)) {
      chunks.push(chunk);
      releasedAfterDelta.push(index);
    }
  });
  for (const chunk of chunker.flush()) {
    chunks.push(chunk);
    releasedAfterDelta.push(deltas.length);
  }
  return { chunks, releasedAfterDelta };
}

describe('ClauseChunker', () => {
  it('releases each sentence as soon as the next word shows it ended', () => {
    const { chunks, releasedAfterDelta } = chunkStreamed('Hi there. How are you doing today? I am fine!');
    expect(chunks).toEqual(['Hi there.', 'How are you doing today?', 'I am fine!']);
    // "Hi there." is out once " How" arrives (delta 2), long before the reply ends.
    expect(releasedAfterDelta[0]).toBe(2);
  });

  it('releases the first chunk early at a clause mark once it has a few words', () => {
    const { chunks } = chunkStreamed('Well, I think that is true, and here is why it matters so much. Next sentence here.');
    expect(chunks[0]).toBe('Well, I think that is true,');
  });

  it('releases the first chunk after the word limit without punctuation, never inside a word', () => {
    const { chunks } = chunkStreamed('one two three four five six seven eight nine ten eleven twelve');
    expect(chunks[0]).toBe('one two three four five six seven eight');
    expect(chunks.join(' ')).toBe('one two three four five six seven eight nine ten eleven twelve');
  });

  it('does not split decimals, thousands or version numbers', () => {
    const { chunks } = chunkStreamed('Pi is about 3.14 today. A crowd of 1,000 people came. Version 2.0.1 works.');
    expect(chunks).toEqual(['Pi is about 3.14 today.', 'A crowd of 1,000 people came.', 'Version 2.0.1 works.']);
  });

  it('releases the first chunk at a comma after a word without waiting for the next token', () => {
    const chunker = new ClauseChunker();
    expect(chunker.push('Well then, my')).toEqual([]);
    expect(chunker.push(' friend,')).toEqual(['Well then, my friend,']);
    // After a digit the comma may be a thousands separator: wait.
    expect(new ClauseChunker().push('We counted to 1,')).toEqual([]);
  });

  it('waits when a period could still become a decimal', () => {
    const chunker = new ClauseChunker();
    expect(chunker.push('The answer is 3.')).toEqual([]);
    expect(chunker.push('14 exactly. Yes')).toEqual(['The answer is 3.14 exactly.']);
  });

  it('keeps abbreviations and initials inside the sentence', () => {
    const { chunks } = chunkStreamed('Dr. Smith met Mr. J. R. Tolkien. Use tools, e.g. hammers and saws. It ends here.');
    expect(chunks).toEqual(['Dr. Smith met Mr. J. R. Tolkien.', 'Use tools, e.g. hammers and saws.', 'It ends here.']);
  });

  it('ends a sentence at "etc." only when a capitalised word follows', () => {
    expect(chunkStreamed('Apples, pears etc. are fruit. Bananas etc. Then more.').chunks).toEqual(['Apples, pears etc. are fruit.', 'Bananas etc.', 'Then more.']);
  });

  it('does not cut URLs, file names or inline code', () => {
    const { chunks } = chunkStreamed('Open https://example.com/a.b?x=1 now. Run `npm run build. then` again. Done.');
    expect(chunks).toEqual(['Open https://example.com/a.b?x=1 now.', 'Run `npm run build. then` again.', 'Done.']);
  });

  it('keeps closing quotes and brackets with their sentence', () => {
    const { chunks } = chunkStreamed('She said "go home." Then (she left.) Fine.');
    expect(chunks).toEqual(['She said "go home."', 'Then (she left.)', 'Fine.']);
  });

  it('attaches trailing punctuation-only text to the last chunk and drops empty input', () => {
    const chunker = new ClauseChunker();
    expect(chunker.push('Okay')).toEqual([]);
    expect(chunker.flush()).toEqual(['Okay']);
    expect(new ClauseChunker().flush()).toEqual([]);
  });

  it('holds everything in unchunked mode', () => {
    const { chunks } = chunkStreamed('One. Two. Three.', { ...defaultChunkerOptions, streaming: false });
    expect(chunks).toEqual(['One. Two. Three.']);
  });

  it('cuts long later sentences at a clause mark', () => {
    const long = 'First one. ' + 'This later sentence goes on and on with very many words in it and still more words here, so it is cut at a comma.';
    const { chunks } = chunkStreamed(long);
    expect(chunks[1]).toBe('This later sentence goes on and on with very many words in it and still more words here,');
    expect(chunks[2]).toBe('so it is cut at a comma.');
  });
});
