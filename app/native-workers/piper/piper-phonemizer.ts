import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * Text → the phonemes a Piper voice was trained on, the way Piper makes them: eSpeak NG's IPA per
 * clause (`espeak_TextToPhonemesWithTerminator`, IPA mode), language-switch flags like "(fr)"
 * removed, the clause's terminator punctuation appended (plus a space after , : ;), NFD-decomposed
 * into codepoints, and a new sentence after . ? ! (OHF-Voice/piper1-gpl `phonemize_espeak.py`,
 * `espeakbridge.c`).
 *
 * eSpeak runs embedded (the same @echogarden/espeak-ng-emscripten module as the eSpeak voice). Its
 * bindings expose `espeak_TextToPhonemes` (not the variant that reports the terminator) with a
 * phoneme separator: that gives the phoneme boundaries Piper's flat string lacks — each phoneme
 * here keeps its codepoints together — while the clause's terminator is found in the text by the
 * rules of eSpeak's ReadClause (`splitClauses`). Removing the separators yields Piper's string.
 */

/** What ends a clause: the punctuation Piper appends, and whether a new sentence starts after it. */
export interface ClauseBreak {
  /** "." "?" "!" "," ":" ";" or "" (end of text, paragraph, ellipsis: Piper appends nothing). */
  terminator: string;
  endsSentence: boolean;
}

export interface TextClause extends ClauseBreak {
  text: string;
}

/** One unit of the id sequence: an eSpeak phoneme (with its stress/length marks), a word space or punctuation. */
export interface PiperToken {
  kind: 'phoneme' | 'space' | 'punctuation';
  /** As eSpeak wrote it, e.g. "ˈoʊ", "t", " ", ",". */
  text: string;
  /** NFD codepoints, each one id of the voice's phoneme_id_map. */
  codepoints: string[];
}

export type PiperSentence = PiperToken[];

// ---- clause splitting (eSpeak NG ReadClause, for the punctuation of the languages we speak) -----

interface Punctuation {
  /** What Piper appends (the terminator's category); "" when eSpeak's code is not one Piper names. */
  terminator: string;
  endsSentence: boolean;
  /** Ends the clause even when no space follows (eSpeak's CLAUSE_OPTIONAL_SPACE_AFTER). */
  noSpaceNeeded: boolean;
}

const PUNCTUATION = new Map<string, Punctuation>([
  ['.', { terminator: '.', endsSentence: true, noSpaceNeeded: false }],
  ['?', { terminator: '?', endsSentence: true, noSpaceNeeded: false }],
  ['!', { terminator: '!', endsSentence: true, noSpaceNeeded: false }],
  [',', { terminator: ',', endsSentence: false, noSpaceNeeded: false }],
  [':', { terminator: ':', endsSentence: false, noSpaceNeeded: false }],
  [';', { terminator: ';', endsSentence: false, noSpaceNeeded: false }],
  // en and em dash: CLAUSE_SEMICOLON
  ['\u2013', { terminator: ';', endsSentence: false, noSpaceNeeded: false }],
  ['\u2014', { terminator: ';', endsSentence: false, noSpaceNeeded: false }],
  // ellipsis ("…" or "..."): CLAUSE_SEMICOLON | optional space, which Piper maps to no terminator
  ['\u2026', { terminator: '', endsSentence: false, noSpaceNeeded: true }],
]);

/** eSpeak's brackets (quotes included): after punctuation they end the clause like a space. */
const BRACKETS = new Set([...'()[]{}<>"\'`\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f']);

const isSpace = (char: string | undefined): boolean => char !== undefined && /\s/u.test(char);
const isLower = (char: string | undefined): boolean => char !== undefined && /\p{Ll}/u.test(char);
const isAlnum = (char: string): boolean => /[\p{L}\p{N}]/u.test(char);

/**
 * Splits text where eSpeak NG ends its clauses: at . ? ! , : ; – — followed by a space, a bracket
 * or quote, or the end; at an ellipsis; at a blank line. A full stop does not end a clause when the
 * next word starts in lower case (an abbreviation) or nothing spoken precedes it.
 */
export function splitClauses(text: string): TextClause[] {
  const chars = [...text];
  const clauses: TextClause[] = [];
  let current = '';
  let anyAlnum = false;
  const end = (clauseBreak: ClauseBreak): void => {
    if (current.trim() !== '') clauses.push({ text: current, ...clauseBreak });
    current = '';
    anyAlnum = false;
  };
  for (let index = 0; index < chars.length; index++) {
    let char = chars[index]!;
    let consumed = char;
    if (char === '.' && chars[index + 1] === '.' && chars[index + 2] === '.') {
      let last = index;
      while (chars[last + 1] === '.') last++;
      consumed = chars.slice(index, last + 1).join('');
      index = last;
      char = '\u2026';
    }
    current += consumed;
    if (isAlnum(char)) anyAlnum = true;

    if (char === '\n') {
      let next = index + 1;
      while (isSpace(chars[next]) && chars[next] !== '\n') next++;
      if (chars[next] === '\n') end({ terminator: '', endsSentence: true });
      continue;
    }
    const punctuation = PUNCTUATION.get(char);
    if (!punctuation) continue;
    const following = chars[index + 1];
    const breaks = punctuation.noSpaceNeeded || following === undefined || isSpace(following) || BRACKETS.has(following) || following === '?';
    if (!breaks) continue;
    if (char === '.') {
      let next = index + 1;
      let newlines = 0;
      while (isSpace(chars[next])) if (chars[next++] === '\n') newlines++;
      if (!anyAlnum || (newlines === 0 && isLower(chars[next]))) continue;
    }
    end(punctuation);
  }
  end({ terminator: '', endsSentence: true });
  return clauses;
}

// ---- eSpeak phonemes → Piper tokens ------------------------------------------------------------

/** Separator eSpeak writes between phonemes (bits 8–23 of the phoneme mode). */
const SEPARATOR = '_';
const LANGUAGE_FLAG = /\([^)]*\)/gu;

/** Tokens of one clause from eSpeak's separated IPA (clauses eSpeak split further come joined by " | "). */
export function clauseTokens(separatedIpa: string): PiperToken[] {
  const tokens: PiperToken[] = [];
  let phoneme = '';
  const flush = (): void => {
    if (phoneme !== '') tokens.push({ kind: 'phoneme', text: phoneme, codepoints: [...phoneme.normalize('NFD')] });
    phoneme = '';
  };
  for (const char of separatedIpa.replace(LANGUAGE_FLAG, '')) {
    if (char === SEPARATOR) {
      flush();
    } else if (char === ' ') {
      flush();
      tokens.push({ kind: 'space', text: ' ', codepoints: [' '] });
    } else {
      phoneme += char;
    }
  }
  flush();
  return tokens;
}

/** Appends a clause's terminator as Piper does: the mark, and a space after , : ; */
function withTerminator(tokens: PiperToken[], terminator: string): PiperToken[] {
  if (terminator === '') return tokens;
  const out = [...tokens, { kind: 'punctuation' as const, text: terminator, codepoints: [terminator] }];
  if (terminator === ',' || terminator === ':' || terminator === ';') out.push({ kind: 'space', text: ' ', codepoints: [' '] });
  return out;
}

/** The flat phoneme string Piper would feed the voice for these tokens. */
export function tokensToPiperString(tokens: readonly PiperToken[]): string {
  return tokens.map((token) => token.codepoints.join('')).join('');
}

// ---- the embedded eSpeak NG --------------------------------------------------------------------

interface EspeakWorkerHandle {
  set_voice(name: string): number;
  text_to_phonemes(text: string, useIpa: number): unknown;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorkerHandle;
  HEAPU8: Uint8Array;
  getPointer(wrapped: unknown): number;
  _free(pointer: number): void;
}

const utf8 = new TextDecoder('utf-8');
/** Bits 8–23 of eSpeak's phoneme mode: the separator character. */
const IPA_WITH_SEPARATOR = 1;

/** eSpeak NG as Piper's phonemizer (one instance per thread; not thread-safe). */
export class PiperPhonemizer {
  private voice = '';

  private constructor(
    private readonly module: EspeakModule,
    private readonly handle: EspeakWorkerHandle,
  ) {}

  /** Instantiates the embedded eSpeak NG (its voice data is packed in the module). */
  static async create(): Promise<PiperPhonemizer> {
    const { default: createModule } = await import('@echogarden/espeak-ng-emscripten');
    const module = (await createModule()) as EspeakModule;
    return new PiperPhonemizer(module, new module.eSpeakNGWorker());
  }

  /** Selects the voice's eSpeak language (config.espeak.voice, e.g. "en-us"). */
  setVoice(name: string): void {
    if (name === this.voice) return;
    if (this.handle.set_voice(name) !== 0) {
      throw new AppError(ErrorCode.ModelInvalid, `eSpeak NG has no voice named "${name}".`, false);
    }
    this.voice = name;
  }

  /** eSpeak's IPA for `text`, phonemes separated by "_", clauses by " | ". */
  separatedIpa(text: string): string {
    // The bindings take `bits 8–23` of the mode from their own constant ("_"); 1 selects IPA.
    const pointer = this.module.getPointer(this.handle.text_to_phonemes(text, IPA_WITH_SEPARATOR));
    try {
      const heap = this.module.HEAPU8;
      let end = pointer;
      while (heap[end] !== 0) end++;
      return utf8.decode(heap.subarray(pointer, end));
    } finally {
      this.module._free(pointer);
    }
  }

  /** Sentences of tokens, exactly the codepoint sequence Piper would make for `text`. */
  phonemize(text: string): PiperSentence[] {
    const sentences: PiperSentence[] = [];
    let sentence: PiperToken[] = [];
    for (const clause of splitClauses(text)) {
      // eSpeak may split a clause further (a long clause, punctuation we do not model): those
      // inner clauses end with no terminator, as Piper's would for eSpeak codes it does not name.
      const parts = this.separatedIpa(clause.text).split(' | ');
      parts.forEach((part, index) => {
        const last = index === parts.length - 1;
        sentence.push(...(last ? withTerminator(clauseTokens(part), clause.terminator) : clauseTokens(part)));
      });
      if (clause.endsSentence) {
        if (sentence.some((token) => token.kind === 'phoneme')) sentences.push(sentence);
        sentence = [];
      }
    }
    if (sentence.some((token) => token.kind === 'phoneme')) sentences.push(sentence);
    return sentences;
  }
}
