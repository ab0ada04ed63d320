import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import type { LlamaRunResult } from '../../app/native-workers/llm/llama-engine';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import type { ChatMessage, FromWorker } from '../../app/shared/worker.contract';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';
import { requestWorker as send } from '../support/worker-request';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';

/**
 * A real instruct model end to end (its own chat template, a natural stop, KV reuse): the
 * development SmolLM2 (`npm run models -- dev`), or any GGUF given as LLM_MODEL_PATH. Skipped with
 * the reason when neither is there.
 */
const dev = await devModelsOrSkipReason();
const modelPath = process.env.LLM_MODEL_PATH ?? (dev.ok ? dev.profile.llm.ggufPath : undefined);

describe.skipIf(!modelPath)(`llama worker with a real instruct model${modelPath ? '' : ` (SKIPPED: ${dev.ok ? '' : dev.skipReason})`}`, () => {
  let worker: Worker;
  let ready: FromWorker;

  beforeAll(async () => {
    worker = startSourceWorker(workerEntryFor('llama'));
    ready = await send(
      worker,
      { type: 'load', spec: { kind: 'llm', engine: 'llama', modelName: 'real', modelPath: modelPath!, threads: 1, options: { contextSize: 2048 } } },
      (reply) => reply.type === 'ready' || reply.type === 'error',
    );
  });

  afterAll(async () => {
    await worker?.terminate();
  });

  async function turn(requestId: string, messages: ChatMessage[]): Promise<LlamaRunResult> {
    const reply = await send(
      worker,
      { type: 'run', requestId, input: { kind: 'llm', sessionId: 'real', messages, maxTokens: 64, temperature: 0 } },
      (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
    );
    if (reply.type !== 'result') throw new Error(`run failed: ${JSON.stringify(reply)}`);
    return reply.data as LlamaRunResult;
  }

  it('answers with the model template, stops by itself and reuses the KV cache next turn', async () => {
    expect(ready).toMatchObject({ type: 'ready', info: { chatTemplate: 'model' } });
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a helpful assistant. Answer in one short sentence.' },
      { role: 'user', content: 'What is the capital of France?' },
    ];
    const first = await turn('t1', messages);
    expect(first.finishReason).toBe('stop');
    expect(first.text).toMatch(/Paris/);
    const second = await turn('t2', [...messages, { role: 'assistant', content: first.text }, { role: 'user', content: 'And of Germany?' }]);
    expect(second.text).toMatch(/Berlin/);
    expect(second.reusedPromptTokenCount).toBeGreaterThanOrEqual(first.promptTokenCount);
  });
});
