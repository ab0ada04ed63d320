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
    for (const text of ['I', 'No.', 'A B', 'Wait, stop.', '2 plus 2?', 'Ça va ?', '5']) expect(hasWords(text), text).toBe(true);
  });

  it("takes whisper's tags for sounds for no words (heard from a hum: '<buh-uh>'), and a lone letter over the avatar for a backchannel", () => {
    for (const text of ['<buh-uh>', '[BLANK_AUDIO]', ' (laughs) ', '*sighs*', '[Music] (humming)']) expect(hasWords(text), text).toBe(false);
    for (const text of ['(laughs) Wait, stop.', '[MUSIC] Hello!', 'A.', 'I.']) expect(hasWords(text), text).toBe(true);
    expect(isBackchannel('(laughs) Yeah.')).toBe(true);
    expect(isBackchannel('<buh-uh> stop')).toBe(false);
    // A mumbled "I see" heard as "A"; "I" alone starts a request.
    for (const text of ['A', 'A.', 'e']) expect(isBackchannel(text), text).toBe(true);
    for (const text of ['I', 'I.', 'AB']) expect(isBackchannel(text), text).toBe(false);
  });
});
