import { describe, expect, it } from 'vitest';
import { llmWindow } from '../../app/engine/conversation/llm-window';
import type { ChatMessage } from '../../app/shared/worker.contract';

function history(turns: number): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: 'persona' }];
  for (let i = 0; i < turns; i++) messages.push({ role: 'user', content: `u${i}` }, { role: 'assistant', content: `a${i}` });
  messages.push({ role: 'user', content: 'now' });
  return messages;
}

describe('llmWindow', () => {
  it('passes a short history through unchanged', () => {
    expect(llmWindow(history(3), 40)).toEqual(history(3));
  });

  it('keeps the system prompt and drops old messages in steps, starting at a user message', () => {
    const window = llmWindow(history(25), 40);
    expect(window[0]).toEqual({ role: 'system', content: 'persona' });
    expect(window[1]!.role).toBe('user');
    expect(window.at(-1)).toEqual({ role: 'user', content: 'now' });
    expect(window.length - 1).toBeLessThanOrEqual(40);
  });

  it('keeps the same prefix over several turns, so the KV cache stays valid', () => {
    const first = llmWindow(history(21), 40);
    const later = llmWindow(history(24), 40);
    expect(later.slice(0, first.length - 1)).toEqual(first.slice(0, -1));
  });

  it('always keeps the new user message, even with a tiny window', () => {
    expect(llmWindow(history(5), 1)).toEqual([{ role: 'system', content: 'persona' }, { role: 'user', content: 'now' }]);
  });
});
