import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../app/shared/errors.contract';
import { FromWorkerSchema, type ChatMessage, type FromWorker, type LoadSpec } from '../../app/shared/worker.contract';
import type { LlamaRunResult } from '../../app/native-workers/llm/llama-engine';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { ensureGgufFixture } from '../../scripts/fixtures/gguf-fixture';

const workerEntry = workerEntryFor('llama');

/** A worker thread running the TypeScript entry: `--import tsx` in execArgv does not reach a worker's entry on Node 20. */
function startSourceWorker(entry: string): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code =
    `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })` +
    `.catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(code, { eval: true, env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' } });
}

type ErrorMessage = Extract<FromWorker, { type: 'error' }>;
type RunOutcome = { chunks: string[]; result?: LlamaRunResult; error?: ErrorMessage };

/** Drives one real llama worker thread over the worker protocol, as the pool does. */
class LlamaWorkerClient {
  private readonly worker = startSourceWorker(workerEntry);
  private readonly listeners = new Set<(message: FromWorker) => void>();
  /** Rejects every wait once the thread dies, so a broken worker fails the test instead of hanging it. */
  private readonly died: Promise<never>;
  private nextRequest = 1;

  constructor() {
    this.worker.on('message', (raw: unknown) => {
      const message = FromWorkerSchema.parse(raw);
      for (const listener of [...this.listeners]) listener(message);
    });
    this.died = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`llama worker exited with code ${code}`)));
    });
    this.died.catch(() => undefined);
  }

  private waitFor<T extends FromWorker>(match: (message: FromWorker) => message is T): Promise<T> {
    const matched = new Promise<T>((resolve) => {
      const listener = (message: FromWorker): void => {
        if (!match(message)) return;
        this.listeners.delete(listener);
        resolve(message);
      };
      this.listeners.add(listener);
    });
    return Promise.race([matched, this.died]);
  }

  /** Loads a model; resolves with `ready` or the load `error`. */
  load(spec: Partial<LoadSpec> & { modelPath: string }): Promise<Extract<FromWorker, { type: 'ready' | 'error' }>> {
    const reply = this.waitFor((message): message is Extract<FromWorker, { type: 'ready' | 'error' }> =>
      message.type === 'ready' || (message.type === 'error' && message.requestId === undefined),
    );
    this.worker.postMessage({ type: 'load', spec: { kind: 'llm', engine: 'llama', modelName: 'fixture', threads: 1, options: {}, ...spec } });
    return reply;
  }

  /** Starts a turn; `onChunk` sees each streamed text with the request id (to cancel it). */
  run(sessionId: string, messages: ChatMessage[], maxTokens: number, onChunk?: (text: string, requestId: string) => void): Promise<RunOutcome> {
    const requestId = `r${this.nextRequest++}`;
    const outcome: RunOutcome = { chunks: [] };
    const finished = new Promise<RunOutcome>((resolve) => {
      const listener = (message: FromWorker): void => {
        if (!('requestId' in message) || message.requestId !== requestId) return;
        if (message.type === 'chunk') {
          const { text } = message.data as { text: string };
          outcome.chunks.push(text);
          onChunk?.(text, requestId);
          return;
        }
        if (message.type === 'result') outcome.result = message.data as LlamaRunResult;
        else if (message.type === 'error') outcome.error = message;
        else return;
        this.listeners.delete(listener);
        resolve(outcome);
      };
      this.listeners.add(listener);
    });
    this.worker.postMessage({ type: 'run', requestId, input: { kind: 'llm', sessionId, messages, maxTokens, temperature: 0, seed: 1 } });
    return Promise.race([finished, this.died]);
  }

  /** Id of the most recent `run`, to cancel it before any chunk arrives. */
  get lastRequestId(): string {
    return `r${this.nextRequest - 1}`;
  }

  cancel(requestId: string): void {
    this.worker.postMessage({ type: 'cancel', requestId });
  }

  release(sessionId: string): void {
    this.worker.postMessage({ type: 'release', sessionId });
  }

  async unload(): Promise<void> {
    const unloaded = this.waitFor((message): message is Extract<FromWorker, { type: 'unloaded' }> => message.type === 'unloaded');
    this.worker.postMessage({ type: 'unload' });
    await unloaded;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

const system: ChatMessage = { role: 'system', content: 'You are a friendly avatar. Answer in one short sentence.' };
const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

function expectResult(outcome: RunOutcome): LlamaRunResult {
  expect(outcome.error).toBeUndefined();
  expect(outcome.result).toBeDefined();
  return outcome.result!;
}

// One worker thread for the whole file: creating the llama.cpp backend tests the native binary in a
// child process, which is the slowest step here; the bad-file cases run after the model tests.
let client: LlamaWorkerClient;

beforeAll(() => {
  client = new LlamaWorkerClient();
});

afterAll(async () => {
  await client?.terminate();
});

describe('llama worker (real worker thread, tiny GGUF fixture)', () => {
  let ready: Extract<FromWorker, { type: 'ready' }>;

  beforeAll(async () => {
    const reply = await client.load({ modelPath: await ensureGgufFixture(), options: { maxSessions: 3 } });
    if (reply.type !== 'ready') throw new Error(`load failed: ${reply.message}`);
    ready = reply;
  });

  it('loads once and reports the model, its chat template and the context', () => {
    expect(ready.info).toMatchObject({
      modelFile: 'llama-tiny-chatml.gguf',
      architecture: 'llama',
      chatTemplate: 'model',
      chatWrapper: 'ChatML',
      contextSize: 2048,
      maxSessions: 3,
      threads: 1,
      gpu: false,
    });
  });

  it('streams text chunks before the result, deterministically', async () => {
    const first = await client.run('stream-a', [system, user('Hello there!')], 12);
    const result = expectResult(first);
    expect(first.chunks.length).toBeGreaterThanOrEqual(2);
    expect(first.chunks.join('')).toBe(result.text);
    expect(result).toMatchObject({ tokenCount: 12, finishReason: 'length' });
    expect(result.text.length).toBeGreaterThan(0);

    const again = expectResult(await client.run('stream-b', [system, user('Hello there!')], 12));
    expect(again.text).toBe(result.text);
  });

  it('reuses the session KV cache on the next turn and only evaluates the new messages', async () => {
    const turn1Messages = [system, user('What is your name?')];
    const turn1 = expectResult(await client.run('reuse', turn1Messages, 8));
    expect(turn1.reusedPromptTokenCount).toBe(0);
    expect(turn1.evaluatedPromptTokenCount).toBe(turn1.promptTokenCount);

    const turn2Messages = [...turn1Messages, assistant(turn1.text), user('Nice. And where do you live?')];
    const turn2 = expectResult(await client.run('reuse', turn2Messages, 8));
    expect(turn2.promptTokenCount).toBeGreaterThan(turn1.promptTokenCount);
    expect(turn2.evaluatedPromptTokenCount).toBeLessThan(turn1.evaluatedPromptTokenCount);
    expect(turn2.reusedPromptTokenCount).toBeGreaterThanOrEqual(turn1.promptTokenCount);

    // A reply cut by barge-in (only what was heard is kept) still reuses the common prefix.
    const heard = turn2.text.slice(0, 3);
    const turn3Messages = [...turn1Messages, assistant(turn1.text), user('Nice. And where do you live?'), assistant(heard), user('Sorry, go on.')];
    const turn3 = expectResult(await client.run('reuse', turn3Messages, 4));
    expect(turn3.reusedPromptTokenCount).toBeGreaterThan(turn1.promptTokenCount);
    expect(turn3.evaluatedPromptTokenCount).toBeLessThan(turn3.promptTokenCount / 2);
  });

  it('stops within a token of a cancel and reports finishReason "abort"', async () => {
    let cancelledAtMs = 0;
    const outcome = await client.run('cancel', [system, user('Tell me a very long story.')], 1500, (_text, requestId) => {
      if (cancelledAtMs === 0) {
        cancelledAtMs = performance.now();
        client.cancel(requestId);
      }
    });
    const stoppedMs = performance.now() - cancelledAtMs;
    const result = expectResult(outcome);
    expect(result.finishReason).toBe('abort');
    expect(stoppedMs).toBeLessThan(1000);
    // Chunks stop when the worker sees the cancel; every token after that is generated after abort.
    expect(result.tokenCount - outcome.chunks.length).toBeLessThanOrEqual(2);
    expect(result.tokenCount).toBeLessThan(1500);

    // The session survives a cancel.
    const next = expectResult(await client.run('cancel', [system, user('Tell me a very long story.'), assistant(result.text), user('Thanks.')], 3));
    expect(next.finishReason).toBe('length');
  });

  it('cancels a turn whose prompt is still being evaluated, and the session carries on', async () => {
    const longQuestion = user(`Please consider all of this: ${'many details about the topic at hand, '.repeat(30)}`);
    const startedMs = performance.now();
    const pending = client.run('early-cancel', [system, longQuestion], 200);
    client.cancel(client.lastRequestId);
    const outcome = await pending;
    expect(performance.now() - startedMs).toBeLessThan(2000);
    if (outcome.error) expect(outcome.error).toMatchObject({ code: ErrorCode.Cancelled, recoverable: true });
    else expect(outcome.result).toMatchObject({ finishReason: 'abort' });
    expect(expectResult(await client.run('early-cancel', [system, longQuestion], 3)).tokenCount).toBe(3);
  });

  it('keeps the KV cache of the most recent sessions and drops the least recently used one', async () => {
    const opening = (name: string): ChatMessage[] => [system, user(`Hello, I am ${name}.`)];
    const turns = new Map<string, LlamaRunResult>();
    for (const name of ['lru-1', 'lru-2', 'lru-3', 'lru-4']) turns.set(name, expectResult(await client.run(name, opening(name), 3)));
    const followUp = (name: string): ChatMessage[] => [...opening(name), assistant(turns.get(name)!.text), user('Go on.')];
    // maxSessions is 3: lru-4 took the sequence of lru-1, the least recently used.
    expect(expectResult(await client.run('lru-2', followUp('lru-2'), 3)).reusedPromptTokenCount).toBeGreaterThan(0);
    expect(expectResult(await client.run('lru-1', followUp('lru-1'), 3)).reusedPromptTokenCount).toBe(0);
  });

  it('release forgets the session: the next turn evaluates its whole prompt again', async () => {
    const messages = [system, user('Remember me?')];
    expectResult(await client.run('released', messages, 4));
    client.release('released');
    const afterRelease = expectResult(await client.run('released', [...messages, assistant('x'), user('Hi again.')], 4));
    expect(afterRelease.reusedPromptTokenCount).toBe(0);
    expect(afterRelease.evaluatedPromptTokenCount).toBe(afterRelease.promptTokenCount);
  });

  it('releasing a session while it generates stops the turn with finishReason "abort"', async () => {
    let released = false;
    const outcome = await client.run('released-mid-turn', [system, user('Keep talking.')], 1500, () => {
      if (!released) client.release('released-mid-turn');
      released = true;
    });
    const result = expectResult(outcome);
    expect(result.finishReason).toBe('abort');
    expect(result.tokenCount).toBeLessThan(1500);
  });

  it('keeps the cache when the engine\'s window drops the oldest messages: only the new message is evaluated', async () => {
    const messages: ChatMessage[] = [system];
    for (let turn = 0; turn < 6; turn++) {
      messages.push(user(`Question ${turn}: what do you think about the number ${turn * 7}?`));
      messages.push(assistant(`Answer ${turn}: ${turn * 7} is a fine number, and I like it a lot.`));
    }
    messages.push(user('Tell me one more thing.'));
    const whole = expectResult(await client.run('window', messages, 4));
    // The window drops the two oldest exchanges, as llm-window.ts does in steps.
    const windowed = [system, ...messages.slice(5, -1), assistant(whole.text), user('And another one?')];
    const after = expectResult(await client.run('window', windowed, 4));
    expect(after.promptTokenCount).toBeLessThan(whole.promptTokenCount + 20);
    // Before: everything after the system prompt was evaluated again (reused = the system prompt only).
    expect(after.reusedPromptTokenCount).toBeGreaterThan(after.promptTokenCount * 0.8);
    expect(after).toMatchObject({ tokenCount: 4 });
  });

  it('trims old history when the conversation outgrows the context, instead of failing', async () => {
    const messages: ChatMessage[] = [system];
    for (let turn = 0; turn < 12; turn++) {
      messages.push(user(`Question ${turn}: ${'tell me more about the weather today '.repeat(5)}`));
      messages.push(assistant(`Answer ${turn}: ${'it is sunny and warm outside '.repeat(5)}`));
    }
    messages.push(user('And tomorrow?'));
    const overflowing = expectResult(await client.run('overflow', messages, 6));
    expect(overflowing.promptTokenCount).toBeLessThan(2048);
    expect(overflowing.tokenCount).toBe(6);

    messages.push(assistant(overflowing.text), user('Thanks!'));
    const next = expectResult(await client.run('overflow', messages, 6));
    expect(next.tokenCount).toBe(6);
    // The trimmed window is kept for the next turn, so the cache still serves most of the prompt.
    expect(next.reusedPromptTokenCount).toBeGreaterThan(next.promptTokenCount / 2);
  });

  it('answers even when the system prompt and the new message alone exceed the context', async () => {
    const messages = [
      { role: 'system', content: 'Stay in character as a pirate captain. '.repeat(40) },
      user(`Here is my whole life story: ${'I was born in a small town by the sea. '.repeat(70)} What do you think?`),
    ] satisfies ChatMessage[];
    const first = expectResult(await client.run('monologue', messages, 4));
    expect(first.promptTokenCount).toBeLessThan(2048);
    const next = expectResult(await client.run('monologue', [...messages, assistant(first.text), user('Well?')], 4));
    expect(next.reusedPromptTokenCount).toBeGreaterThan(0);
  });

  it('rejects a request whose last message is not from the user with a typed error', async () => {
    const outcome = await client.run('bad', [system, assistant('Hi!')], 4);
    expect(outcome.error).toMatchObject({ code: ErrorCode.InvalidMessage, recoverable: true });
  });
});

describe('llama worker with bad or unusual model files', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-bad-models-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function expectLoadError(modelPath: string, code: string, fileName: string, reason: RegExp): Promise<void> {
    const reply = await client.load({ modelPath });
    expect(reply.type).toBe('error');
    expect(reply).toMatchObject({ code, recoverable: false });
    const { message } = reply as ErrorMessage;
    expect(message).toContain(fileName);
    expect(message).toMatch(reason);
  }

  it('names a missing file (model_missing)', async () => {
    await expectLoadError(join(dir, 'absent-model.gguf'), ErrorCode.ModelMissing, 'absent-model.gguf', /not found/);
  });

  it('names a file that is not GGUF (model_invalid)', async () => {
    const path = join(dir, 'notes.gguf');
    await writeFile(path, 'this is a text file, not a model\n'.repeat(4));
    await expectLoadError(path, ErrorCode.ModelInvalid, 'notes.gguf', /not a GGUF model.*"GGUF"/);
  });

  it('names a truncated download (model_invalid), in the tensor data and in the header', async () => {
    const fixture = await ensureGgufFixture();
    const cutData = join(dir, 'cut-data.gguf');
    await copyFile(fixture, cutData);
    await truncate(cutData, 300_000);
    await expectLoadError(cutData, ErrorCode.ModelInvalid, 'cut-data.gguf', /truncated: its tensors need \d+ bytes but the file has 300000/);

    const cutHeader = join(dir, 'cut-header.gguf');
    await copyFile(fixture, cutHeader);
    await truncate(cutHeader, 2_000);
    await expectLoadError(cutHeader, ErrorCode.ModelInvalid, 'cut-header.gguf', /truncated: its GGUF header/);
  });

  it('turns a GGUF that llama.cpp rejects into model_invalid instead of a crash', async () => {
    const bytes = await readFile(await ensureGgufFixture());
    const archAt = bytes.indexOf('general.architecture') + 'general.architecture'.length + 4 + 8;
    expect(bytes.subarray(archAt, archAt + 5).toString()).toBe('llama');
    bytes.write('lllll', archAt);
    const path = join(dir, 'unknown-arch.gguf');
    await writeFile(path, bytes);
    await expectLoadError(path, ErrorCode.ModelInvalid, 'unknown-arch.gguf', /could not load/);
  });

  it('falls back to ChatML for a model without a chat template, and can still load after errors', async () => {
    const reply = await client.load({ modelPath: await ensureGgufFixture({ chatTemplate: false }) });
    expect(reply.type).toBe('ready');
    expect((reply as Extract<FromWorker, { type: 'ready' }>).info).toMatchObject({ chatTemplate: 'chatml-fallback', chatWrapper: 'ChatML' });
    const outcome = await client.run('fallback', [user('Hi!')], 5);
    expect(expectResult(outcome).tokenCount).toBe(5);
    await client.unload();
    const afterUnload = await client.run('fallback', [user('Still there?')], 5);
    expect(afterUnload.error).toMatchObject({ code: ErrorCode.ModelMissing });
  });
});
