import { describe, expect, it } from 'vitest';
import { ConversationStore } from '../../app/renderer/state/conversation-store';

const sessionId = 's1';

function userLines(store: ConversationStore) {
  return store.getSnapshot().entries.filter((entry) => entry.role === 'user');
}

describe('conversation store: partial and final user transcripts', () => {
  it('shows partial text as pending and replaces it in place with the final transcript', () => {
    const store = new ConversationStore();
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t1', text: 'What is', final: false });
    expect(userLines(store)).toMatchObject([{ text: 'What is', pending: true, turnId: 's1-t1' }]);
    const id = userLines(store)[0]!.id;

    store.handle({ type: 'transcript', sessionId, turnId: 's1-t1', text: 'What is the', final: false });
    store.handle({ type: 'turn.started', sessionId, turnId: 's1-t1', source: 'voice' });
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t1', text: 'What is the weather?', final: true });

    expect(userLines(store)).toEqual([{ id, role: 'user', text: 'What is the weather?', turnId: 's1-t1', pending: false }]);
  });

  it('keeps earlier turns and starts a new line for the next utterance', () => {
    const store = new ConversationStore();
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t1', text: 'Hello there.', final: true });
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t2', text: 'And', final: false });
    expect(userLines(store).map((entry) => [entry.text, entry.pending])).toEqual([
      ['Hello there.', false],
      ['And', true],
    ]);
  });

  it('removes the partial line when the final transcript is empty (noise, no words)', () => {
    const store = new ConversationStore();
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t3', text: 'Uh', final: false });
    store.handle({ type: 'transcript', sessionId, turnId: 's1-t3', text: '', final: true });
    expect(userLines(store)).toEqual([]);
  });
});
