import type { ClientMessage, ServerMessage } from '../shared/messages.contract';
import type { WorkerKind } from '../shared/worker.contract';

/**
 * Where the engine is: loading its models, ready, or degraded — a start failed, `reason` says why
 * in words and `failedKinds` names the worker kinds whose models did not load.
 */
export type EngineHealth =
  | { state: 'starting' }
  | { state: 'ready' }
  | { state: 'degraded'; reason: string; failedKinds: WorkerKind[] };

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
  /** Starting, ready or degraded (for `/healthz` and the page's status). */
  health(): EngineHealth;
}

export interface EngineConnection {
  /** Handles one already-validated message from this client. */
  handle(message: ClientMessage): void;
  /** Sessions this client has open now (a host may close a client that has none and sends nothing). */
  readonly openSessions: number;
  /** The client went away: its sessions end and their leases return to the pool. */
  close(): void;
}
