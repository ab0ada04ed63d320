/** Rules for where the chunker may cut the reply into speakable pieces. */
export interface ChunkerOptions {
  /** False: hold everything until the reply ends (one chunk; the unchunked baseline). */
  streaming: boolean;
  /** The first chunk may end at a comma/semicolon/colon once it has this many words. */
  firstChunkMinWords: number;
  /** The first chunk ends at the next word boundary after this many words, even without punctuation. */
  firstChunkMaxWords: number;
  /** Later chunks end at a clause mark after this many words, or at a word boundary after twice it. */
  longChunkWords: number;
}

export const defaultChunkerOptions: ChunkerOptions = {
  streaming: true,
  firstChunkMinWords: 3,
  firstChunkMaxWords: 8,
  longChunkWords: 15,
};

/** Never end a sentence: titles and Latin abbreviations. */
const ALWAYS_ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'sr', 'jr', 'e.g', 'i.e', 'cf', 'vs', 'approx', 'fig', 'no', 'mt', 'ft', 'inc', 'ltd', 'co']);
/** End a sentence only when the next word starts with a capital letter. */
const MAYBE_ABBREVIATIONS = new Set(['etc', 'a.m', 'p.m', 'u.s', 'u.k']);
const SENTENCE_END = /[.!?…]/;
const CLAUSE_MARK = /[,;:—–]/;
const CLOSERS = /[)"'”’\]]/;

interface Cut {
  /** End of the chunk text (exclusive). */
  end: number;
}

/**
 * Cuts streamed reply text into speakable chunks as early as they are safe to speak: the first at a
 * clause mark or after a few words, the rest at sentence ends. Never cuts inside a word, a number
 * (3.14, 1,000), an abbreviation (Dr., e.g.), a URL or `code`.
 */
export class ClauseChunker {
  private buffer = '';
  private emitted = 0;

  constructor(private readonly options: ChunkerOptions = defaultChunkerOptions) {}

  /** Adds streamed text; returns the chunks that became complete. */
  push(text: string): string[] {
    this.buffer += text;
    const chunks: string[] = [];
    if (!this.options.streaming) return chunks;
    for (;;) {
      const cut = this.findCut(false);
      if (!cut) return chunks;
      const chunk = this.buffer.slice(0, cut.end).trim();
      this.buffer = this.buffer.slice(cut.end).replace(/^\s+/, '');
      if (chunk) {
        chunks.push(chunk);
        this.emitted++;
      }
    }
  }

  /** The reply ended: returns what is left as the last chunks. */
  flush(): string[] {
    const chunks: string[] = [];
    if (this.options.streaming) {
      for (;;) {
        const cut = this.findCut(true);
        if (!cut) break;
        const chunk = this.buffer.slice(0, cut.end).trim();
        this.buffer = this.buffer.slice(cut.end).replace(/^\s+/, '');
        if (chunk) chunks.push(chunk);
      }
    }
    const rest = this.buffer.trim();
    this.buffer = '';
    if (/[\p{L}\p{N}]/u.test(rest)) chunks.push(rest);
    else if (rest && chunks.length > 0) chunks[chunks.length - 1] += rest;
    this.emitted += chunks.length;
    return chunks;
  }

  private findCut(final: boolean): Cut | undefined {
    const text = this.buffer;
    const first = this.emitted === 0;
    let words = 0;
    let inWord = false;
    let inCode = false;
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (char === '`') inCode = !inCode;
      const space = /\s/.test(char);
      if (!space && !inWord) words++;
      if (space && inWord && !inCode) {
        // A word just ended: the word-count rules may cut here.
        const limit = first ? this.options.firstChunkMaxWords : this.options.longChunkWords * 2;
        if (words >= limit) return { end: i };
      }
      inWord = !space;
      if (inCode || !/[\p{L}\p{N}]/u.test(text.slice(0, i + 1))) continue;
      if (char === '\n' && text[i + 1] === '\n') return { end: i };
      const sentence = SENTENCE_END.test(char);
      const clause = CLAUSE_MARK.test(char);
      if (!sentence && !clause) continue;
      let next = i + 1;
      while (next < text.length && (CLOSERS.test(text[next]!) || SENTENCE_END.test(text[next]!))) next++;
      if (next >= text.length) {
        if (final) return { end: next };
        // A comma right after a word cannot grow into a number ("1,000"): the first chunk need not
        // wait a token for the space. Anything else may still change ("3." → "3.14", "http:" → URL).
        const wordComma = char === ',' && next === i + 1 && /\p{L}/u.test(text[i - 1] ?? '');
        if (first && wordComma && words >= this.options.firstChunkMinWords) return { end: next };
        return undefined;
      }
      if (!/\s/.test(text[next]!)) continue;
      if (sentence) {
        const verdict = char === '.' ? this.periodEndsSentence(text, i, next, final) : true;
        if (verdict === undefined) return undefined;
        if (verdict) return { end: next };
      } else {
        const needed = first ? this.options.firstChunkMinWords : this.options.longChunkWords;
        if (words >= needed) return { end: next };
      }
    }
    return undefined;
  }

  /** True/false when decidable, undefined when the next word is needed to decide. */
  private periodEndsSentence(text: string, period: number, afterCloser: number, final: boolean): boolean | undefined {
    const wordStart = text.lastIndexOf(' ', period) + 1;
    const word = text.slice(wordStart, period).replace(/^[("'“‘[]+/, '');
    const lower = word.toLowerCase();
    if (ALWAYS_ABBREVIATIONS.has(lower)) return false;
    // A single capital letter is an initial ("J. R. R. Tolkien").
    if (/^\p{Lu}$/u.test(word)) return false;
    if (!MAYBE_ABBREVIATIONS.has(lower)) return true;
    const nextWord = text.slice(afterCloser).match(/\S/);
    if (!nextWord) return final ? true : undefined;
    return /\p{Lu}/u.test(nextWord[0]);
  }
}
