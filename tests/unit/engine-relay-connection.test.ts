import { describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import type { Engine, EngineConnection } from '../../app/engine/engine-api';
import { RelayConnection } from '../../app/engine/relay-connection';

/** A page's connection survives an engine restart: its sessions reopen under the ids it knows. */

/** An engine that opens sessions `<name>-1`, `<name>-2`… and records what reaches it. */
class FakeEngine implements Engine {
  readonly received: ClientMessage[] = [];
  readonly sends: Array<(message: ServerMessage) => void> = [];
  closed = 0;
  private opened = 0;
  constructor(private readonly name: string) {}
  start = (): Promise<void> => Promise.resolve();
  shutdown = (): Promise<void> => Promise.resolve();
  health = () => ({ state: 'ready' }) as const;
  connect(send: (message: ServerMessage) => void): EngineConnection {
    this.sends.push(send);
    return {
      openSessions: 0,
      handle: (message) => {
        this.received.push(message);
        if (message.type === 'session.open') send({ type: 'session.opened', requestId: message.requestId, sessionId: `${this.name}-${++this.opened}` });
      },
      close: () => void this.closed++,
    };
  }
}

describe('RelayConnection', () => {
  it('reopens sessions on the new engine with their persona and translates ids both ways', () => {
    const first = new FakeEngine('a');
    const page: ServerMessage[] = [];
    const relay = new RelayConnection(first, (message) => page.push(message));
    relay.handle({ type: 'session.open', requestId: 'r1', persona: 'Be calm.' });
    expect(page).toEqual([{ type: 'session.opened', requestId: 'r1', sessionId: 'a-1' }]);

    const second = new FakeEngine('b');
    relay.rebind(second);
    expect(first.closed).toBe(1);
    expect(second.received).toEqual([
      { type: 'session.open', requestId: expect.stringMatching(/^reopen-/), persona: 'Be calm.' },
      { type: 'settings.get' },
    ]);
    expect(page).toHaveLength(1); // the reopen is not news to the page

    relay.handle({ type: 'user.text', sessionId: 'a-1', text: 'Hi' });
    expect(second.received.at(-1)).toEqual({ type: 'user.text', sessionId: 'b-1', text: 'Hi' });
    second.sends[0]!({ type: 'turn.started', sessionId: 'b-1', turnId: 't1', source: 'text' });
    expect(page.at(-1)).toEqual({ type: 'turn.started', sessionId: 'a-1', turnId: 't1', source: 'text' });

    // A late message from the replaced engine never reaches the page.
    first.sends[0]!({ type: 'turn.ended', sessionId: 'a-1', turnId: 't0', status: 'failed', replyText: '', heardText: '', chunkCount: 0 });
    expect(page.at(-1)?.type).toBe('turn.started');

    relay.handle({ type: 'session.close', sessionId: 'a-1' });
    expect(second.received.at(-1)).toEqual({ type: 'session.close', sessionId: 'b-1' });
    const third = new FakeEngine('c');
    relay.rebind(third);
    expect(third.received).toEqual([{ type: 'settings.get' }]); // a closed session is not reopened
    relay.close();
    expect(third.closed).toBe(1);
  });
});
