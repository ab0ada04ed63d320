import { randomUUID } from 'node:crypto';
import type { ClientMessage, ServerMessage } from '../shared/messages.contract';
import type { Engine, EngineConnection } from './engine-api';

type SessionOpen = Extract<ClientMessage, { type: 'session.open' }>;

/** Opens not yet answered (an engine may refuse one without naming its request): the oldest go first. */
const MAX_PENDING_OPENS = 16;

/**
 * One client's connection that outlives the engine behind it. When the app replaces its engine (a
 * fallback after a failed start), `rebind` closes the old connection, connects to the new engine,
 * reopens the client's sessions there with the persona and voice they were opened with, and keeps
 * translating between the ids the client knows and the new engine's, so a page never notices.
 */
export class RelayConnection implements EngineConnection {
  private inner: EngineConnection;
  /** Bumped on every rebind: messages from an engine that was replaced are dropped. */
  private generation = 0;
  /** The client's session id → the engine's id now, and the request that opened it. */
  private readonly sessions = new Map<string, { engineId: string; open: SessionOpen }>();
  /** The engine's session id → the client's (only ids that differ after a rebind). */
  private readonly clientIds = new Map<string, string>();
  /** The client's session.open requests not yet answered, by request id. */
  private readonly opening = new Map<string, SessionOpen>();
  /** Reopen requests this relay sent on a rebind, by request id → the client's session id. */
  private readonly reopening = new Map<string, string>();

  constructor(
    engine: Engine,
    private readonly send: (message: ServerMessage) => void,
  ) {
    this.inner = this.attach(engine);
  }

  handle(message: ClientMessage): void {
    if (message.type === 'session.open') {
      this.opening.set(message.requestId, message);
      if (this.opening.size > MAX_PENDING_OPENS) this.opening.delete(this.opening.keys().next().value!);
      this.inner.handle(message);
      return;
    }
    if (!('sessionId' in message)) {
      this.inner.handle(message);
      return;
    }
    const session = this.sessions.get(message.sessionId);
    if (message.type === 'session.close' && session) {
      this.sessions.delete(message.sessionId);
      this.clientIds.delete(session.engineId);
    }
    this.inner.handle(session && session.engineId !== message.sessionId ? ({ ...message, sessionId: session.engineId } as ClientMessage) : message);
  }

  close(): void {
    this.generation++;
    this.inner.close();
  }

  get openSessions(): number {
    return this.inner.openSessions;
  }

  /** Moves this client to `engine`: its sessions reopen there under the ids it already knows. */
  rebind(engine: Engine): void {
    this.inner.close();
    this.clientIds.clear();
    this.opening.clear();
    this.reopening.clear();
    this.inner = this.attach(engine);
    for (const [clientId, session] of this.sessions) {
      const requestId = `reopen-${randomUUID()}`;
      this.reopening.set(requestId, clientId);
      this.inner.handle({ ...session.open, requestId });
    }
    // The new engine's settings (with what it set aside) reach the page without it asking.
    this.inner.handle({ type: 'settings.get' });
  }

  private attach(engine: Engine): EngineConnection {
    const generation = ++this.generation;
    return engine.connect((message) => {
      if (generation === this.generation) this.receive(message);
    });
  }

  private receive(message: ServerMessage): void {
    if (message.type === 'session.opened') {
      const clientId = this.reopening.get(message.requestId);
      if (clientId !== undefined) {
        // A reopen after a rebind: the client already has this session.
        this.reopening.delete(message.requestId);
        const session = this.sessions.get(clientId);
        if (session) {
          session.engineId = message.sessionId;
          this.clientIds.set(message.sessionId, clientId);
        }
        return;
      }
      const open = this.opening.get(message.requestId);
      if (open) {
        this.opening.delete(message.requestId);
        this.sessions.set(message.sessionId, { engineId: message.sessionId, open });
      }
    }
    this.send(this.toClient(message));
  }

  /** The message with the client's session ids in place of the engine's. */
  private toClient(message: ServerMessage): ServerMessage {
    if (this.clientIds.size === 0) return message;
    if (message.type === 'turn.trace') {
      const clientId = this.clientIds.get(message.trace.sessionId);
      return clientId === undefined ? message : { ...message, trace: { ...message.trace, sessionId: clientId } };
    }
    if (!('sessionId' in message) || message.sessionId === undefined) return message;
    const clientId = this.clientIds.get(message.sessionId);
    return clientId === undefined ? message : ({ ...message, sessionId: clientId } as ServerMessage);
  }
}
