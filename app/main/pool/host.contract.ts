/**
 * Messages between the engine and a runtime host process (child_process.fork or Electron
 * utilityProcess). The host only relays: worker messages are validated against worker.contract.ts
 * by the engine (FromWorker) and by the worker (ToWorker), so they travel here as `unknown`.
 */

export type ToHost =
  | { type: 'spawn'; workerId: string; entry: string }
  | { type: 'to-worker'; workerId: string; message: unknown }
  | { type: 'terminate'; workerId: string }
  | { type: 'ping'; nonce: number }
  /** Ordered shutdown: unload every worker, end the threads, exit. */
  | { type: 'exit'; timeoutMs: number };

export type FromHost =
  | { type: 'host-ready'; pid: number }
  | { type: 'from-worker'; workerId: string; message: unknown }
  | { type: 'worker-exit'; workerId: string; exitCode: number }
  | { type: 'worker-error'; workerId: string; message: string }
  | { type: 'pong'; nonce: number };
