import { ErrorCode } from '../shared/errors.contract';
import type { ClientMessage, ServerMessage } from '../shared/messages.contract';

/**
 * Who answers a client message has one answer: a table with a handler for every message type.
 * Each part of the engine (sessions, models, settings, VMC output) hands a connection the handlers of its
 * own group; the host joins the groups into a `HandlerTable`, and the compiler names a type that
 * nobody handles.
 */

export type ClientMessageType = ClientMessage['type'];
export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;
export type Handler<T extends ClientMessageType> = (message: ClientMessageOf<T>) => void;
/** Handlers for the message types `K`, exactly. */
export type HandlerGroup<K extends ClientMessageType> = { [T in K]: Handler<T> };
export type HandlerTable = HandlerGroup<ClientMessageType>;

/** What one part of the engine gives one connection: its handlers, and what to do when the client leaves. */
export interface ConnectionPart<K extends ClientMessageType> {
  handlers: HandlerGroup<K>;
  close(): void;
  /** Sessions this part holds open for the client (the session group only). */
  readonly openSessions?: number;
}

/** The message types each part answers; the groups together are every ClientMessage type. */
export const SESSION_MESSAGE_TYPES = ['session.open', 'session.close', 'user.text', 'mic.audio', 'playback.progress', 'turn.interrupt', 'ping', 'conversation.new', 'conversation.export', 'vision.summary', 'vision.arrival'] as const;
export const MODEL_MESSAGE_TYPES = ['models.list', 'models.pull', 'models.cancel'] as const;
export const SETTINGS_MESSAGE_TYPES = ['settings.get', 'settings.set'] as const;
export const VMC_MESSAGE_TYPES = ['vmc.pose'] as const;
export type SessionMessageType = (typeof SESSION_MESSAGE_TYPES)[number];
export type ModelMessageType = (typeof MODEL_MESSAGE_TYPES)[number];
export type SettingsMessageType = (typeof SETTINGS_MESSAGE_TYPES)[number];
export type VmcMessageType = (typeof VMC_MESSAGE_TYPES)[number];

/** Calls the one handler of `message.type`. */
export function dispatch(table: HandlerTable, message: ClientMessage): void {
  // The table's type pairs each key with its message type; TypeScript cannot follow that through an index.
  (table[message.type] as (message: ClientMessage) => void)(message);
}

/** Handlers for a group this host does not serve (a bare engine without model manager): each says so. */
export function notServed<K extends ClientMessageType>(types: readonly K[], send: (message: ServerMessage) => void, what: string): HandlerGroup<K> {
  const answer = (message: ClientMessage): void =>
    send({ type: 'error', code: ErrorCode.InvalidMessage, message: `This host has no ${what}: "${message.type}" is not handled here.`, recoverable: true });
  return Object.fromEntries(types.map((type) => [type, answer])) as unknown as HandlerGroup<K>;
}
