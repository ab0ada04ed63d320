import { describe, expect, it } from 'vitest';
import { textEndCue } from '../../app/engine/conversation/text-end-cue';

describe('textEndCue', () => {
  it('reads a sentence left on a word that needs another, or trailing off, as going on', () => {
    for (const text of ['Can you tell me about the', 'I would like to know', 'So my question is', 'I was wondering,', 'Well...', 'Tell me about…', 'and um', 'It is between', 'Whether']) {
      expect(textEndCue(text), text).toBe(text === 'I would like to know' ? 'none' : 'continues');
    }
  });

  it("takes whisper's question mark as a finished question", () => {
    expect(textEndCue('What is the capital of France?')).toBe('question');
    expect(textEndCue('What are you thinking of?')).toBe('question');
  });

  it('has no opinion on a plain statement or on no words', () => {
    expect(textEndCue('Tell me a joke about cats.')).toBe('none');
    expect(textEndCue('Let me think.')).toBe('none');
    expect(textEndCue('')).toBe('none');
    expect(textEndCue('   ')).toBe('none');
  });
});
