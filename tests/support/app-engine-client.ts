import type { AppEngine } from '../../app/engine/compose-app-engine';
import type { EngineConnection } from '../../app/engine/engine-api';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';

/** One connection to a composed app engine that keeps every message it was sent. */
export class AppEngineClient {
  readonly messages: ServerMessage[] = [];
  readonly connection: EngineConnection;

  constructor(app: AppEngine) {
    this.connection = app.engine.connect((message) => this.messages.push(message));
  }

  send(message: ClientMessage): void {
    this.connection.handle(message);
  }

  /** The first message after index `from` that matches; rejects with what did arrive after `timeoutMs`. */
  async waitFor<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, from = 0, timeoutMs = 20_000): Promise<T> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
  }
}
