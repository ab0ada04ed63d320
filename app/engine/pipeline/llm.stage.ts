import type { ChatMessage, LlmRunInput } from '../../shared/worker.contract';
import type { WorkerPool } from '../pool/worker-pool';
import { AsyncQueue } from './async-queue';
import type { Stage } from './stage';

export interface LlmStageOptions {
  pool: WorkerPool;
  sessionId: string;
  maxTokens: number;
  temperature?: number;
  /** The worker stopped generating and went back to the pool; counts tokens that arrived after the abort. */
  onSettled?(tokensAfterAbort: number): void;
}

/**
 * Chat requests → streamed reply text. Leases the session's LLM worker (sticky: it keeps the KV
 * cache) for one generation and returns it when the worker has really stopped.
 */
export function llmStage(options: LlmStageOptions): Stage<ChatMessage[], string> {
  return async function* generate(requests, signal) {
    for await (const messages of requests) {
      let lease;
      try {
        lease = await options.pool.lease('llm', options.sessionId, signal);
      } catch (error) {
        options.onSettled?.(0);
        throw error;
      }
      const { worker, release } = lease;
      const deltas = new AsyncQueue<string>(signal);
      let afterAbort = 0;
      const input: LlmRunInput = { kind: 'llm', sessionId: options.sessionId, messages, maxTokens: options.maxTokens };
      if (options.temperature !== undefined) input.temperature = options.temperature;
      const run = worker
        .run(input, {
          signal,
          onChunk: (data) => {
            if (signal.aborted) afterAbort++;
            else deltas.push(data.text);
          },
        })
        .then(
          () => deltas.end(),
          (error: unknown) => deltas.fail(error),
        )
        .finally(() => {
          release();
          options.onSettled?.(afterAbort);
        });
      try {
        yield* deltas;
      } finally {
        if (!signal.aborted) await run;
      }
    }
  };
}
