import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import type { LlamaRunResult } from '../../app/native-workers/llm/llama-engine';
import { workerEntryFor } from '../../app/native-workers/registry';
import { FromWorkerSchema, type ChatMessage, type FromWorker, type ToWorker } from '../../app/shared/worker.contract';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';

/**
 * Opt-in: `LLM_MODEL_PATH=/path/to/instruct.gguf npx vitest run --project unit tests/integration/llm-real-model.test.ts`
 * checks a real instruct model end to end (its own chat template, a natural stop, KV reuse). Skipped
 * otherwise, so the default suite needs no download.
 */
const modelPath = process.env.LLM_MODEL_PATH;


function send(worker: Worker, message: ToWorker, done: (reply: FromWorker) => boolean): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const reply = FromWorkerSchema.parse(raw);
      if (!done(reply)) return;
      worker.off('message', onMessage);
      resolve(reply);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(message);
  });
}

describe.skipIf(!modelPath)('llama worker with a real instruct model (LLM_MODEL_PATH)', () => {
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
