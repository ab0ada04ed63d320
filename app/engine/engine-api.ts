import type { ClientMessage, ServerMessage } from '../shared/messages.contract';

/**
 * The engine as its hosts (Electron main, `serve`, CLI, benches) see it. Transport-agnostic:
 * a host validates incoming messages, hands them to a connection, and delivers what `send` gets.
 */
export interface Engine {
  /** Starts the warm pool (hosts, workers, model loads). Resolves when every worker is ready. */
  start(): Promise<void>;
  /** A new client (window, tab, WebSocket). `send` must deliver messages in order. */
  connect(send: (message: ServerMessage) => void): EngineConnection;
  /** Ordered shutdown: abort turns → wait → dispose workers → exit hosts. */
  shutdown(): Promise<void>;
}

export interface EngineConnection {
  /** Handles one already-validated message from this client. */
  handle(message: ClientMessage): void;
  /** Sessions this client has open now (a host may close a client that has none and sends nothing). */
  readonly openSessions: number;
  /** The client went away: its sessions end and their leases return to the pool. */
  close(): void;
}
