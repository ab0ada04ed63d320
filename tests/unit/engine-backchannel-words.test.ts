import { describe, expect, it } from 'vitest';
import { hasWords, isBackchannel } from '../../app/engine/conversation/backchannel';

describe('backchannel words', () => {
  it('knows the listener noises whisper writes, in their spellings, with punctuation and repeats', () => {
    for (const text of ['Uh-huh.', 'uh huh', 'Mm-hm.', 'Mhm', 'Yeah.', 'Yeah, yeah.', 'Right.', 'Okay.', 'OK', 'Oh, I see.', 'Got it.', 'Hmm.', 'Yes, right.', 'NMM.', 'Mmm-hmm', 'hmmm']) {
      expect(isBackchannel(text), text).toBe(true);
    }
  });

  it('takes anything else as words that want the turn', () => {
    for (const text of ['Wait, stop.', 'No.', 'Stop', 'Hello!', 'Yeah, but what about the weather?', 'Okay so tell me more', 'I', '', '   ', '...']) {
      expect(isBackchannel(text), text).toBe(false);
    }
  });

  it('tells words from what whisper writes on a short sound: punctuation alone, or a run of single letters', () => {
    for (const text of ['(', '...', ' - ', 'A-E-E-E-E-E-E', 'm m m', '']) expect(hasWords(text), text).toBe(false);
    for (const text of ['I', 'No.', 'A B', 'Wait, stop.', '2 plus 2?', 'Ça va ?']) expect(hasWords(text), text).toBe(true);
  });
});
