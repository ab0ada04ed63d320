/**
 * What the words so far say about whether the user finished, beside what the end-of-turn model
 * hears in the voice. Syntax only, no vocabulary of topics: a sentence left on a word that needs
 * another after it ("the", "about", "and", "is", "um") or on a comma or an ellipsis is not
 * finished; a question mark is whisper's reading of a finished question.
 */
export type TextEndCue = 'continues' | 'question' | 'none';

/** Words that cannot end an English sentence: articles, possessives, prepositions, conjunctions, auxiliaries, fillers. */
const CONTINUATION_WORDS = new Set([
  'a', 'an', 'the', 'my', 'your', 'his', 'her', 'its', 'our', 'their', 'this', 'these', 'those', 'every', 'some', 'any', 'no',
  'of', 'to', 'in', 'on', 'at', 'for', 'with', 'about', 'from', 'by', 'into', 'onto', 'like', 'than', 'as', 'between', 'through', 'over', 'under', 'after', 'before',
  'and', 'or', 'but', 'so', 'because', 'if', 'whether', 'that', 'when', 'while', 'although', 'though', 'unless', 'since', 'where', 'which', 'who', 'whose',
  'is', 'are', 'was', 'were', 'am', 'be', 'been', 'being', 'can', 'could', 'would', 'should', 'will', 'shall', 'may', 'might', 'must', "i'm", "it's", "that's",
  'um', 'uh', 'uhm', 'erm', 'er',
]);

/** Marks whisper writes where speech trails off or runs on. */
const TRAILING_OFF = /(\.\.\.|…|,|;|:|-|—)$/;

export function textEndCue(transcript: string): TextEndCue {
  const text = transcript.trim();
  if (text === '') return 'none';
  if (TRAILING_OFF.test(text)) return 'continues';
  const words = text.toLowerCase().match(/[a-z']+/g);
  const last = words?.[words.length - 1];
  if (text.endsWith('?')) return 'question';
  if (last !== undefined && CONTINUATION_WORDS.has(last)) return 'continues';
  return 'none';
}
