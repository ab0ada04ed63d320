import { z } from 'zod';

/**
 * Messages between the engine and a runtime host process (child_process.fork or Electron
 * utilityProcess). The host only relays: worker messages are validated against worker.contract.ts
 * by the engine (FromWorker) and by the worker (ToWorker), so they travel here as `unknown`.
 */

export const ToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('spawn'), workerId: z.string(), entry: z.string() }),
  z.object({ type: z.literal('to-worker'), workerId: z.string(), message: z.unknown() }),
  z.object({ type: z.literal('terminate'), workerId: z.string() }),
  z.object({ type: z.literal('ping'), nonce: z.number() }),
  /** Ordered shutdown: unload every worker, end the threads, exit. */
  z.object({ type: z.literal('exit'), timeoutMs: z.number().nonnegative() }),
]);
export type ToHost = z.infer<typeof ToHostSchema>;

export const FromHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('host-ready'), pid: z.number().int() }),
  z.object({ type: z.literal('from-worker'), workerId: z.string(), message: z.unknown() }),
  z.object({ type: z.literal('worker-exit'), workerId: z.string(), exitCode: z.number() }),
  z.object({ type: z.literal('worker-error'), workerId: z.string(), message: z.string() }),
  z.object({ type: z.literal('pong'), nonce: z.number() }),
]);
export type FromHost = z.infer<typeof FromHostSchema>;
