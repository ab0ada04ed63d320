import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { dispatch, MODEL_MESSAGE_TYPES, notServed, SESSION_MESSAGE_TYPES, SETTINGS_MESSAGE_TYPES, VMC_MESSAGE_TYPES, type HandlerTable } from '../../app/engine/dispatch';
import { ClientMessageSchema, REPLY_OF, ServerMessageSchema } from '../../app/shared/messages.contract';

/** One dispatch table: every client message type has exactly one handler, and the compiler checks it. */

function recordingTable(calls: string[]): HandlerTable {
  const record = (message: { type: string }): void => void calls.push(message.type);
  return Object.fromEntries([...SESSION_MESSAGE_TYPES, ...MODEL_MESSAGE_TYPES, ...SETTINGS_MESSAGE_TYPES, ...VMC_MESSAGE_TYPES].map((type) => [type, record])) as unknown as HandlerTable;
}

describe('dispatch table', () => {
  it('has a group for every client message type in the contract, and no type twice', () => {
    const grouped = [...SESSION_MESSAGE_TYPES, ...MODEL_MESSAGE_TYPES, ...SETTINGS_MESSAGE_TYPES, ...VMC_MESSAGE_TYPES];
    const contract = ClientMessageSchema.options.map((option) => option.shape.type.value);
    expect(new Set(grouped).size).toBe(grouped.length);
    expect([...grouped].sort()).toEqual([...contract].sort());
  });

  it('calls the handler of the message type and no other', () => {
    const calls: string[] = [];
    const table = recordingTable(calls);
    dispatch(table, { type: 'models.pull', modelId: 'tiny' });
    dispatch(table, { type: 'ping', nonce: 1 });
    expect(calls).toEqual(['models.pull', 'ping']);
  });

  it('answers a group the host does not serve with a typed error naming the message', () => {
    const sent: ServerMessage[] = [];
    const handlers = notServed(MODEL_MESSAGE_TYPES, (message) => sent.push(message), 'model manager');
    handlers['models.list']({ type: 'models.list' });
    expect(sent).toEqual([{ type: 'error', code: 'invalid_message', message: 'This host has no model manager: "models.list" is not handled here.', recoverable: true }]);
  });

  it('does not compile when a handler is missing', () => {
    const noop = (): void => undefined;
    // @ts-expect-error settings.set has no handler: the table must name every message type.
    const incomplete: HandlerTable = {
      ...notServed(SESSION_MESSAGE_TYPES, noop, 'x'),
      ...notServed(MODEL_MESSAGE_TYPES, noop, 'x'),
      'settings.get': noop,
    };
    expect(Object.keys(incomplete)).not.toContain('settings.set');
  });

  it('pairs each request with a reply the contract defines', () => {
    const serverTypes = new Set(ServerMessageSchema.options.map((option) => option.shape.type.value));
    const clientTypes = new Set(ClientMessageSchema.options.map((option) => option.shape.type.value));
    for (const [request, reply] of Object.entries(REPLY_OF)) {
      expect(clientTypes.has(request as never), request).toBe(true);
      expect(serverTypes.has(reply as never), reply).toBe(true);
    }
  });
});
