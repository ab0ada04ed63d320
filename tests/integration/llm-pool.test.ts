import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkHostLauncher } from '../../app/engine/pool/host-launcher';
import { WorkerHandle } from '../../app/engine/pool/worker-handle';
import { WorkerPool, type PoolConfig } from '../../app/engine/pool/worker-pool';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import type { LlamaRunResult } from '../../app/native-workers/llm/llama-engine';
import { ErrorCode } from '../../app/shared/errors.contract';
import type { ChatMessage, LlmRunInput, LoadSpec } from '../../app/shared/worker.contract';
import { ensureGgufFixture } from '../../scripts/fixtures/gguf-fixture';

function poolConfig(spec: LoadSpec): PoolConfig {
  return {
    kinds: { llm: { count: 1, spec, affinity: 'exclusive' } },
    launcher: forkHostLauncher,
    leaseTimeoutMs: 5000,
    health: { pingIntervalMs: 1000, pingDeadlineMs: 5000, memoryCeilingBytes: 2e9 },
    hostRestartDelayMs: 50,
    shutdownTimeoutMs: 5000,
  };
}

const llamaSpec = (modelPath: string): LoadSpec => ({ kind: 'llm', engine: 'llama', modelName: 'fixture llama', modelPath, threads: 1, options: {} });
const turn = (sessionId: string, messages: ChatMessage[], maxTokens: number): LlmRunInput => ({ kind: 'llm', sessionId, messages, maxTokens, temperature: 0 });

const system: ChatMessage = { role: 'system', content: 'You are a friendly avatar.' };
const firstTurn: ChatMessage[] = [system, { role: 'user', content: 'Good morning!' }];

describe('llama worker through the warm pool (runtime host process + worker thread)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    pool = new WorkerPool(poolConfig(llamaSpec(await ensureGgufFixture())));
    await pool.start();
  });

  afterAll(async () => pool?.shutdown());

  /** Leases the LLM worker for `sessionId`, runs one turn, returns the lease. */
  async function runTurn(input: LlmRunInput, signal?: AbortSignal, onChunk?: (text: string) => void): Promise<{ result: LlamaRunResult; chunks: string[]; stickyHit: boolean }> {
    const lease = await pool.lease('llm', input.sessionId);
    const chunks: string[] = [];
    try {
      const result = (await lease.worker.run(input, {
        signal,
        onChunk: (data) => {
          const { text } = data as { text: string };
          chunks.push(text);
          onChunk?.(text);
        },
      })) as LlamaRunResult;
      return { result, chunks, stickyHit: lease.stickyHit };
    } finally {
      lease.release();
    }
  }

  it('streams a turn and reuses the KV cache when the session comes back to its worker', async () => {
    const first = await runTurn(turn('s1', firstTurn, 6));
    expect(first.chunks.length).toBeGreaterThanOrEqual(2);
    expect(first.chunks.join('')).toBe(first.result.text);
    expect(first.result).toMatchObject({ tokenCount: 6, finishReason: 'length', reusedPromptTokenCount: 0 });

    const second = await runTurn(turn('s1', [...firstTurn, { role: 'assistant', content: first.result.text }, { role: 'user', content: 'How are you?' }], 6));
    expect(second.stickyHit).toBe(true);
    expect(second.result.reusedPromptTokenCount).toBeGreaterThanOrEqual(first.result.promptTokenCount);
    expect(second.result.evaluatedPromptTokenCount).toBeLessThan(first.result.evaluatedPromptTokenCount);
  });

  it('stops generating when the lease signal aborts', async () => {
    const controller = new AbortController();
    const { result, chunks } = await runTurn(turn('s1', [system, { role: 'user', content: 'Talk for a long time.' }], 1500), controller.signal, () => controller.abort());
    expect(result.finishReason).toBe('abort');
    expect(result.tokenCount - chunks.length).toBeLessThanOrEqual(2);
  });

  it('fails a llama worker whose model is missing with model_missing naming the file, over the host hop', async () => {
    const worker = new WorkerHandle('llm-missing', llamaSpec('/nonexistent/models/qwen-missing.gguf'), pool.host('llama')!, () => undefined);
    await expect(worker.start(workerEntryFor('llama'))).rejects.toMatchObject({
      code: ErrorCode.ModelMissing,
      recoverable: false,
      message: expect.stringContaining('qwen-missing.gguf'),
    });
  });

  it('makes the worker forget a session when another session takes it over', async () => {
    const other = await runTurn(turn('s2', firstTurn, 3));
    expect(other.stickyHit).toBe(false);
    const back = await runTurn(turn('s1', firstTurn, 3));
    expect(back.stickyHit).toBe(false);
    expect(back.result.reusedPromptTokenCount).toBe(0);
  });
});
