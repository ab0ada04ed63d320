import { availableParallelism, loadavg } from 'node:os';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LlamaRunResult } from '../app/native-workers/llm/llama-engine';
import { workerEntryFor } from '../app/engine/pool/worker-entry';
import { type ChatMessage, type LoadSpec, type ToWorker } from '../app/shared/worker.contract';
import { ensureGgufFixture, type GgufFixtureVariant } from '../scripts/fixtures/gguf-fixture';
import { quantile, round3, type BenchResult } from './bench-api';
import { startWorkerThread as startWorker } from '../app/native-workers/worker-thread';
import { requestWorker as request } from '../tests/support/worker-request';

/**
 * Measures the llama worker the way the engine uses it: one worker thread, one conversation whose
 * turns extend the previous ones (warm: the session's KV cache holds the history), and the same
 * prompts on fresh sessions (cold: the whole prompt is evaluated). Reports time to first token for
 * both, their ratio, generation speed and model load time.
 */

export interface MeasureLlmOptions {
  /** Measured turns (after one discarded warm-up turn). */
  runs?: number;
  /** A real GGUF model; defaults to the generated fixture. */
  modelPath?: string;
  /** Fixture size when no `modelPath` is given: `bench` (≈ 100 MB, default) or `tiny`. */
  variant?: GgufFixtureVariant;
  /** CPU threads for llama.cpp; defaults to all cores but one (its threads spin, so oversubscription is very slow). */
  threads?: number;
  gpuLayers?: number;
  /** Tokens generated per turn (the tokens/s sample). */
  maxTokens?: number;
}

const SYSTEM_PROMPT =
  'You are Ava, a friendly 3D avatar who talks with people out loud. Keep every answer short: one or two ' +
  'spoken sentences, no lists, no markdown, no emoji. If you do not know something, say so plainly.';

const USER_TURNS = [
  'Hi Ava, how are you today?',
  'What is a good way to start learning to cook?',
  'Can you suggest something quick for dinner?',
  'How long should I boil pasta?',
  'And what sauce goes well with it?',
  'Thanks! What about dessert?',
  'Is there anything without sugar?',
  'Great. Any tips for a busy week?',
];

interface TurnTiming {
  firstTokenMs: number;
  totalMs: number;
  result: LlamaRunResult;
}



let nextRequest = 1;

/** One turn: run posted → first streamed chunk, and → result. */
async function timeTurn(worker: Worker, sessionId: string, messages: ChatMessage[], maxTokens: number): Promise<TurnTiming> {
  const requestId = `bench-${nextRequest++}`;
  const startedMs = performance.now();
  let firstTokenMs: number | undefined;
  const reply = await request(
    worker,
    { type: 'run', requestId, input: { kind: 'llm', sessionId, messages, maxTokens, temperature: 0 } },
    (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
    (r) => {
      if (r.type === 'chunk' && r.requestId === requestId) firstTokenMs ??= performance.now() - startedMs;
    },
  );
  const totalMs = performance.now() - startedMs;
  if (reply.type !== 'result') throw new Error(`llama run failed: ${JSON.stringify(reply)}`);
  return { firstTokenMs: firstTokenMs ?? totalMs, totalMs, result: reply.data as LlamaRunResult };
}

/** Runs the measurements; metric names follow shared/design/measurement.md. */
export async function measureLlm(options: MeasureLlmOptions = {}): Promise<BenchResult> {
  const runs = options.runs ?? 6;
  const maxTokens = options.maxTokens ?? 24;
  const variant = options.variant ?? 'bench';
  const modelPath = options.modelPath ?? (await ensureGgufFixture({ variant }));
  const modelName = options.modelPath ? basename(options.modelPath) : `fixture llama (${variant}, random weights)`;
  const spec: LoadSpec = {
    kind: 'llm',
    engine: 'llama',
    modelName,
    modelPath,
    threads: options.threads ?? Math.max(1, availableParallelism() - 1),
    gpuLayers: options.gpuLayers,
    // Two sessions: the warm conversation keeps its sequence while a cold one runs next to it.
    options: { maxSessions: 2 },
  };

  const worker = startWorker(workerEntryFor('llama'));
  try {
    // The worker's own thread start-up (tsx from source) is not model loading: wait for it first.
    await request(worker, { type: 'ping', nonce: 0 }, (reply) => reply.type === 'pong');
    const loadStartedMs = performance.now();
    const ready = await request(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    if (ready.type !== 'ready') throw new Error(`llama failed to load: ${JSON.stringify(ready)}`);
    const modelLoadMs = performance.now() - loadStartedMs;
    const backendInitMs = Number(ready.info.backendInitMs);

    const warmFirstTokenMs: number[] = [];
    const coldFirstTokenMs: number[] = [];
    const tokensPerSecond: number[] = [];
    const reusedRatios: number[] = [];
    const history: ChatMessage[] = [{ role: 'system', content: SYSTEM_PROMPT }];
    for (let run = -1; run < runs; run++) {
      history.push({ role: 'user', content: USER_TURNS[(run + 1) % USER_TURNS.length]! });
      const warm = await timeTurn(worker, 'warm', history, maxTokens);
      const cold = await timeTurn(worker, `cold-${run}`, history, maxTokens);
      worker.postMessage({ type: 'release', sessionId: `cold-${run}` } satisfies ToWorker);
      history.push({ role: 'assistant', content: warm.result.text });
      // The first turn has nothing cached yet: it warms the worker and is not measured.
      if (run < 0) continue;
      warmFirstTokenMs.push(warm.firstTokenMs);
      coldFirstTokenMs.push(cold.firstTokenMs);
      reusedRatios.push(warm.result.reusedPromptTokenCount / warm.result.promptTokenCount);
      for (const turn of [warm, cold]) {
        if (turn.result.tokenCount > 1) tokensPerSecond.push(((turn.result.tokenCount - 1) * 1000) / (turn.totalMs - turn.firstTokenMs));
      }
    }
    await request(worker, { type: 'unload' }, (reply) => reply.type === 'unloaded');

    const warmP50 = quantile(warmFirstTokenMs, 0.5);
    const coldP50 = quantile(coldFirstTokenMs, 0.5);
    return {
      models: { llm: modelName },
      runs,
      metrics: {
        llm_first_token_ms_p50: round3(warmP50),
        llm_first_token_ms_p95: round3(quantile(warmFirstTokenMs, 0.95)),
        llm_first_token_cold_ms_p50: round3(coldP50),
        llm_first_token_cold_over_warm_ratio: round3(coldP50 / warmP50),
        llm_tokens_per_s: round3(quantile(tokensPerSecond, 0.5)),
        llm_model_load_ms: round3(modelLoadMs),
        llm_backend_init_ms: round3(backendInitMs),
        llm_warm_prompt_reused_ratio: round3(quantile(reusedRatios, 0.5)),
      },
      notes: [
        'first_token = run posted → first streamed text chunk (worker thread, no runtime host hop)',
        'warm = next turn of one conversation, its history in the session KV cache; cold = the same messages on a fresh session',
        `tokens_per_s = median over turns of (tokens − 1) / (result − first chunk), ${maxTokens} tokens per turn, temperature 0`,
        'model_load = load posted → ready after the thread is up; backend_init is the part spent importing node-llama-cpp and creating the llama.cpp backend (it tests its native binary in a child process)',
        `threads ${spec.threads}, gpuLayers ${spec.gpuLayers ?? 0}`,
        ...(options.modelPath ? [] : ["the fixture's tokenizer is byte-level: its prompts have ~4× the tokens of a real model's"]),
        `load average at the end: ${loadavg()[0]!.toFixed(1)}`,
      ],
    };
  } finally {
    await worker.terminate();
  }
}
