import { describe, expect, it } from 'vitest';
import { ConversationStore } from '../../app/renderer/state/conversation-store';
import { restoredHistory } from '../../app/engine/conversation/llm-window';
import type { ConversationEntry } from '../../app/shared/conversation.contract';

const entries: ConversationEntry[] = [
  { type: 'user', turnId: 'old-t1', text: 'Hello.', atMs: 1, source: 'text' },
  { type: 'avatar', turnId: 'old-t1', text: 'Hi, I was', atMs: 2, status: 'interrupted' },
  { type: 'user', turnId: 'old-t2', text: 'Go on.', atMs: 3, source: 'voice' },
  { type: 'avatar', turnId: 'old-t2', text: 'Gladly.', atMs: 4, status: 'complete' },
];

describe('a kept conversation on the page and in the LLM context', () => {
  it('the page shows a continued conversation for its own session only, and a new one empty', () => {
    const store = new ConversationStore();
    store.expectSession('r1');
    store.handle({ type: 'session.opened', requestId: 'r1', sessionId: 's1' });
    store.handle({ type: 'conversation.loaded', sessionId: 'other', conversationId: 'c0', startedAtMs: 0, kept: true, entries });
    expect(store.getSnapshot().entries).toEqual([]);

    store.handle({ type: 'conversation.loaded', sessionId: 's1', conversationId: 'c1', startedAtMs: 0, kept: true, entries });
    expect(store.getSnapshot().conversation).toEqual({ id: 'c1', kept: true });
    expect(store.getSnapshot().entries.map((entry) => [entry.role, entry.text, entry.turnId, entry.interrupted ?? false])).toEqual([
      ['user', 'Hello.', 'old-t1', false],
      ['avatar', 'Hi, I was', 'old-t1', true],
      ['user', 'Go on.', 'old-t2', false],
      ['avatar', 'Gladly.', 'old-t2', false],
    ]);

    store.handle({ type: 'conversation.loaded', sessionId: 's1', conversationId: 'c2', startedAtMs: 5, kept: false, entries: [] });
    expect(store.getSnapshot()).toMatchObject({ entries: [], conversation: { id: 'c2', kept: false } });
  });

  it('the LLM gets the system prompt and the most recent messages that fit its window', () => {
    expect(restoredHistory('Be brief.', entries, 40)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello.' },
      { role: 'assistant', content: 'Hi, I was' },
      { role: 'user', content: 'Go on.' },
      { role: 'assistant', content: 'Gladly.' },
    ]);
    expect(restoredHistory('Be brief.', entries, 2).map((message) => message.content)).toEqual(['Be brief.', 'Go on.', 'Gladly.']);
    expect(restoredHistory('Be brief.', entries, 0)).toEqual([{ role: 'system', content: 'Be brief.' }]);
  });
});
