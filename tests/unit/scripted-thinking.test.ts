import { describe, expect, it } from 'vitest';
import { scriptedThinking } from '../../app/native-workers/scripted/scripted-reply';

describe('scripted LLM "think N ms:" prefix', () => {
  it('holds the first token back and answers the rest as usual', () => {
    expect(scriptedThinking('think 3000 ms: say: Hello.')).toEqual({ thinkMs: 3000, text: 'say: Hello.' });
    expect(scriptedThinking('Think 250ms:how are you')).toEqual({ thinkMs: 250, text: 'how are you' });
  });

  it('leaves other texts alone and caps the pause', () => {
    expect(scriptedThinking('I think 3 ms: is short')).toEqual({ thinkMs: 0, text: 'I think 3 ms: is short' });
    expect(scriptedThinking('think 999999 ms: ok').thinkMs).toBe(20_000);
  });
});
