import { basename } from 'node:path';
import { z } from 'zod';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaChatSession, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ChatMessage, LlmRunResult, LoadSpec, RunInput } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine } from '../worker-runtime';
import { inspectGgufFile, type GgufSummary } from './gguf-file';
import { NativeGarbage, SAMPLER_BYTES_PER_VOCABULARY_TOKEN } from './native-garbage';

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** The contract's LLM result plus prompt accounting: how much of the prompt the KV cache already held. */
export interface LlamaRunResult extends LlmRunResult {
  /** Tokens of the prompt (the chat rendered by the template) in the context window this turn. */
  promptTokenCount: number;
  /** Prompt tokens evaluated this turn, before the first generated token. */
  evaluatedPromptTokenCount: number;
  /** Prompt tokens served from the session's KV cache. */
  reusedPromptTokenCount: number;
}

/** `LoadSpec.options` understood by this engine. */
export const LlamaEngineOptionsSchema = z.object({
  /** Tokens per session; defaults to the model's training context, at most 4096. */
  contextSize: z.number().int().min(64).optional(),
  /** Sessions whose KV cache is kept at once; the least recently used one is dropped beyond that. */
  maxSessions: z.number().int().positive().default(2),
  /**
   * At load, answer one short throwaway chat (on a sequence freed right after): llama.cpp's first
   * evaluation allocates its compute buffers and pages the weights in, which otherwise lands on the
   * user's first turn (measured on SmolLM2-135M, 2 cores: first token 1.0 s cold, 0.2 s warm).
   */
  warmUp: z.boolean().default(true),
});

const DEFAULT_MAX_CONTEXT_TOKENS = 4096;
/** Vocabulary size assumed when the GGUF does not list its tokens (larger than most). */
const FALLBACK_VOCABULARY_TOKENS = 150_000;
const DEFAULT_TEMPERATURE = 0.7;
const RECENT_LOG_LINES = 5;
/** Most of the context a system prompt / the new user message may take (the rest is history and reply). */
const SYSTEM_SHARE = 0.25;
const USER_SHARE = 0.5;

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
  lib: NodeLlamaCpp;
  /** Native memory each generation leaves until a collection (its sampler's vocabulary-sized buffer). */
  samplerBytes: number;
}

/** Chat history as node-llama-cpp keeps it: everything before the new user message. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => {
    if (message.role === 'assistant') return { type: 'model', response: [message.content] };
    return { type: message.role, text: message.content };
  });
}

/** Comparable form of a history item: role and plain text. */
function itemKey(item: ChatHistoryItem): string {
  if (item.type === 'model') return `model\u0000${item.response.filter((part) => typeof part === 'string').join('')}`;
  return `${item.type}\u0000${typeof item.text === 'string' ? item.text : JSON.stringify(item.text)}`;
}

function sameHistory(a: readonly ChatHistoryItem[], b: readonly ChatHistoryItem[]): boolean {
  return a.length === b.length && a.every((item, index) => itemKey(item) === itemKey(b[index]!));
}

/** Fewest tokens that must line up after a dropped block before it is taken for one (a chat turn's frame alone is ~10). */
const MIN_ALIGNED_TOKENS = 24;

/**
 * Where `next` is `current` with one block of tokens taken out after their common prefix (the
 * engine's history window dropping its oldest messages): the range to erase from `current`, or
 * null when `next` is anything else (an extension, an edited tail, a new conversation). Of the
 * block ends after which `next` lines up again, the one it lines up with longest wins (a
 * conversation repeats itself: an earlier copy of the first kept message lines up only briefly);
 * at least `MIN_ALIGNED_TOKENS` tokens must line up.
 */
export function droppedTokenRange(current: readonly number[], next: readonly number[]): { start: number; end: number } | null {
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start++;
  if (next.length - start < MIN_ALIGNED_TOKENS) return null;
  let best: { end: number; aligned: number } | null = null;
  for (let end = start + 1; end + MIN_ALIGNED_TOKENS <= current.length; end++) {
    let aligned = 0;
    while (end + aligned < current.length && start + aligned < next.length && current[end + aligned] === next[start + aligned]) aligned++;
    if (aligned >= MIN_ALIGNED_TOKENS && (!best || aligned >= best.aligned)) best = { end, aligned };
  }
  return best ? { start, end: best.end } : null;
}

/**
 * Whether `next` is `previous` with its oldest messages after the system prompt dropped (the
 * engine's window, llm-window.ts): the same system prompt, and `next`'s first message found later in
 * `previous` with every message after it the same (the last one may have been cut by a barge-in).
 */
export function dropsOldestMessages(previous: readonly ChatHistoryItem[], next: readonly ChatHistoryItem[]): boolean {
  if (previous[0]?.type !== 'system' || next[0]?.type !== 'system' || itemKey(previous[0]) !== itemKey(next[0]) || next.length < 2) return false;
  // A conversation repeats itself, so every place the first kept message occurs is tried.
  for (let from = 2; from < previous.length; from++) {
    const overlap = Math.min(previous.length - from, next.length - 1);
    let k = 0;
    while (k < overlap - 1 && itemKey(previous[from + k]!) === itemKey(next[1 + k]!)) k++;
    if (overlap > 0 && k === overlap - 1 && itemKey(previous[from]!) === itemKey(next[1]!)) return true;
  }
  return false;
}

/** Tokens in the model's vocabulary (as its GGUF lists them). */
function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } } | undefined)?.tokenizer?.ggml?.tokens;
  return tokens?.length ?? FALLBACK_VOCABULARY_TOKENS;
}

function finishReasonOf(stopReason: string): LlmRunResult['finishReason'] {
  if (stopReason === 'abort') return 'abort';
  if (stopReason === 'maxTokens') return 'length';
  return 'stop';
}

/**
 * A llama.cpp chat model (node-llama-cpp) in a worker thread. The model is loaded once; each
 * session keeps its own context sequence (KV cache) and chat history, so a turn that extends the
 * previous conversation only evaluates the new tokens.
 */
export class LlamaEngine implements WorkerEngine {
  private loaded: Loaded | undefined;
  /** Each generation's native sampler buffer waits for a garbage collection (native-garbage.ts). */
  private readonly nativeGarbage = new NativeGarbage();
  /**
   * `failedModelLoad`: node-llama-cpp 3.22.1 keeps a disposal guard from a model that failed to load,
   * so `llama.dispose()` never settles afterwards; such a backend is still usable, but not awaited.
   */
  private backend: { key: string; llama: Llama; failedModelLoad: boolean } | undefined;
  private options: z.infer<typeof LlamaEngineOptionsSchema> = LlamaEngineOptionsSchema.parse({});
  /** Insertion order is recency: the first entry is the least recently used session. */
  private readonly sessions = new Map<string, LlamaChatSession>();
  /** Turns in progress per session, so releasing a session first stops its generation. */
  private readonly activeRuns = new Map<string, { stop: AbortController; finished: Promise<unknown> }>();
  private readonly recentLogLines: string[] = [];

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    if (spec.kind !== 'llm') throw new AppError(ErrorCode.InvalidMessage, `The llama engine runs LLMs, not "${spec.kind}" models.`, false);
    if (!spec.modelPath) throw new AppError(ErrorCode.ModelMissing, `No model file is configured for "${spec.modelName}"; expected a GGUF file path.`, false);
    const parsedOptions = LlamaEngineOptionsSchema.safeParse(spec.options);
    if (!parsedOptions.success) {
      throw new AppError(ErrorCode.InvalidMessage, `Invalid llama options: ${parsedOptions.error.issues[0]?.message ?? 'invalid'}`, false);
    }
    await this.disposeModel();
    this.options = parsedOptions.data;

    const summary = await inspectGgufFile(spec.modelPath);
    progress(0.05, 'Model file checked');
    const backendStartedMs = performance.now();
    const lib = await import('node-llama-cpp');
    const llama = await this.backendFor(lib, spec);
    const backendInitMs = performance.now() - backendStartedMs;
    this.loaded = await this.loadModel(lib, llama, spec, summary, progress);
    const { model, context, chatWrapper } = this.loaded;
    const warmUpStartedMs = performance.now();
    if (this.options.warmUp) await this.warmUp(this.loaded);
    const warmUpMs = performance.now() - warmUpStartedMs;
    return {
      modelName: spec.modelName,
      modelFile: basename(spec.modelPath),
      architecture: summary.architecture,
      modelBytes: summary.fileBytes,
      trainContextSize: model.trainContextSize,
      contextSize: context.contextSize,
      maxSessions: this.options.maxSessions,
      threads: spec.threads,
      gpu: llama.gpu,
      gpuLayers: model.gpuLayers,
      chatWrapper: chatWrapper.wrapperName,
      chatTemplate: summary.hasChatTemplate ? 'model' : 'chatml-fallback',
      /** Part of the load spent importing node-llama-cpp and creating (or reusing) the llama.cpp backend. */
      backendInitMs,
      warmUpMs,
    };
  }

  /** A short prompt and a few generated tokens: the evaluation paths of a real turn, once. */
  private async warmUp({ context, chatWrapper, lib }: Loaded): Promise<void> {
    const session = new lib.LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper, systemPrompt: 'You are a helpful assistant. Answer briefly.' });
    try {
      await session.prompt('Say hello.', { maxTokens: 4, temperature: 0 });
    } finally {
      session.dispose({ disposeSequence: true });
    }
  }

  /**
   * The llama.cpp backend, kept across loads with the same settings: creating it tests the native
   * binary in a child process, which costs seconds, and a retry after a bad model file should not.
   */
  private async backendFor(lib: NodeLlamaCpp, spec: LoadSpec): Promise<Llama> {
    const key = `${spec.gpuLayers ? 'gpu' : 'cpu'}:${spec.threads}`;
    if (this.backend?.key === key && !this.backend.llama.disposed) return this.backend.llama;
    await this.disposeBackend();
    const llama = await lib
      .getLlama({
        gpu: spec.gpuLayers ? 'auto' : false,
        // Only the prebuilt binaries shipped with the app: never download or compile at run time.
        build: 'never',
        // llama.cpp defaults to 4 threads; on small machines that oversubscribes the cores badly.
        maxThreads: spec.threads,
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.warn,
        logger: (level, message) => this.log(level, message),
      })
      .catch((error: unknown) => {
        throw new AppError(ErrorCode.Internal, `The llama.cpp runtime could not start on this machine: ${this.describeFailure(error)}.`, false, { cause: error });
      });
    this.backend = { key, llama, failedModelLoad: false };
    return llama;
  }

  private async loadModel(
    lib: NodeLlamaCpp,
    llama: Llama,
    spec: LoadSpec,
    summary: GgufSummary,
    progress: (fraction: number, message: string) => void,
  ): Promise<Loaded> {
    const modelPath = spec.modelPath!;
    this.recentLogLines.length = 0;
    const model = await llama
      .loadModel({ modelPath, gpuLayers: spec.gpuLayers ?? 0, onLoadProgress: (fraction) => progress(0.05 + fraction * 0.85, 'Loading model') })
      .catch((error: unknown) => {
        if (this.backend) this.backend.failedModelLoad = true;
        throw new AppError(ErrorCode.ModelInvalid, `llama.cpp could not load "${basename(modelPath)}": ${this.describeFailure(error)} (${modelPath}).`, false, { cause: error });
      });
    try {
      const contextSize = this.options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT_TOKENS);
      const context = await model.createContext({ contextSize, sequences: this.options.maxSessions, threads: spec.threads });
      progress(1, 'Model ready');
      // The model's own template when it has one; ChatML (the most common instruct format) otherwise.
      const chatWrapper = summary.hasChatTemplate
        ? lib.resolveChatWrapper(model, { fallbackToOtherWrappersOnJinjaError: true })
        : new lib.ChatMLChatWrapper();
      return { model, context, chatWrapper, lib, samplerBytes: vocabularySize(model) * SAMPLER_BYTES_PER_VOCABULARY_TOKEN };
    } catch (error) {
      await model.dispose();
      throw new AppError(ErrorCode.ModelInvalid, `Could not create a context for "${basename(modelPath)}": ${this.describeFailure(error)}.`, false, { cause: error });
    }
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: LlamaRunResult }> {
    if (input.kind !== 'llm') throw new AppError(ErrorCode.InvalidMessage, `The llama engine cannot run "${input.kind}" requests.`, true);
    if (input.messages.at(-1)!.role !== 'user') throw new AppError(ErrorCode.InvalidMessage, 'The last chat message must be the user\'s.', true);
    const session = this.sessionFor(input.sessionId);
    const messages = this.fitToContext(input.messages);
    const last = messages.at(-1)!;

    // Unchanged history: the session appends and its KV cache holds everything but the new message.
    // Anything else (an edited or truncated reply after a barge-in) resets the history; the sequence
    // still keeps the longest common token prefix.
    const history = toChatHistory(messages.slice(0, -1));
    const previous = session.getChatHistory();
    if (!sameHistory(previous, history)) {
      if (dropsOldestMessages(previous, history)) await this.eraseDroppedMessages(session, history);
      session.setChatHistory(history);
    }

    const meter = session.sequence.tokenMeter;
    const inputTokensBefore = meter.usedInputTokens;
    const outputTokensBefore = meter.usedOutputTokens;
    let prompt: { total: number; evaluated: number } | undefined;
    // Stops on the request's cancel, and on a release of the session while it generates.
    const stop = new AbortController();
    const onCancel = (): void => stop.abort(context.signal.reason);
    context.signal.addEventListener('abort', onCancel, { once: true });
    const generation = session.promptWithMeta(last.content, {
      maxTokens: input.maxTokens,
      temperature: input.temperature ?? DEFAULT_TEMPERATURE,
      seed: input.seed,
      signal: stop.signal,
      stopOnAbortSignal: true,
      onToken: (tokens) => {
        prompt ??= {
          total: session.sequence.contextTokens.length - tokens.length,
          evaluated: meter.usedInputTokens - inputTokensBefore,
        };
      },
      onTextChunk: (text) => {
        if (text.length > 0 && !stop.signal.aborted) context.emitChunk({ text });
      },
    });
    this.activeRuns.set(input.sessionId, { stop, finished: generation.catch(() => undefined) });
    const response = await generation.finally(() => {
      this.activeRuns.delete(input.sessionId);
      context.signal.removeEventListener('abort', onCancel);
    });
    prompt ??= { total: session.sequence.contextTokens.length, evaluated: meter.usedInputTokens - inputTokensBefore };
    // After the result is posted: a collection, when one is due, stays off the reply's path.
    const { samplerBytes } = this.requireLoaded();
    setImmediate(() => this.nativeGarbage.add(samplerBytes));
    return {
      data: {
        text: response.responseText,
        tokenCount: meter.usedOutputTokens - outputTokensBefore,
        finishReason: finishReasonOf(response.stopReason),
        promptTokenCount: prompt.total,
        evaluatedPromptTokenCount: prompt.evaluated,
        reusedPromptTokenCount: Math.max(0, prompt.total - prompt.evaluated),
      },
    };
  }

  /**
   * When the engine's window drops the oldest messages (every few turns of a long conversation), the
   * common token prefix ends at the system prompt and the whole rest would be evaluated again (2,158
   * tokens, 9.5 s on one thread with SmolLM2-135M, measured). Instead the dropped messages' tokens
   * are erased from the sequence and the kept ones shifted into place (llama.cpp's K-shift, as its
   * context shift does), so only the new message is evaluated. Best effort: anything it cannot line
   * up is left to the reset, which re-evaluates what differs.
   */
  private async eraseDroppedMessages(session: LlamaChatSession, history: ChatHistoryItem[]): Promise<void> {
    const { model, chatWrapper } = this.requireLoaded();
    try {
      const next = chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
      const range = droppedTokenRange(session.sequence.contextTokens, next);
      if (range) await session.sequence.eraseContextTokenRanges([range]);
    } catch {
      // The reset re-evaluates from the first token that differs.
    }
  }

  /**
   * Context shifts drop old turns but always keep the system prompt and the new user message; when
   * those alone overflow the context node-llama-cpp gives up. Cap them (system: its head, user: its
   * tail) so a long monologue or system prompt still gets an answer. Deterministic, so an unchanged
   * conversation still matches the session's history on the next turn.
   */
  private fitToContext(messages: readonly ChatMessage[]): ChatMessage[] {
    const { model, context } = this.requireLoaded();
    const cap = (content: string, maxTokens: number, keep: 'head' | 'tail'): string => {
      const tokens = model.tokenize(content);
      if (tokens.length <= maxTokens) return content;
      return model.detokenize(keep === 'head' ? tokens.slice(0, maxTokens) : tokens.slice(-maxTokens));
    };
    const lastIndex = messages.length - 1;
    return messages.map((message, index) => {
      if (message.role === 'system') return { ...message, content: cap(message.content, Math.floor(context.contextSize * SYSTEM_SHARE), 'head') };
      if (index === lastIndex) return { ...message, content: cap(message.content, Math.floor(context.contextSize * USER_SHARE), 'tail') };
      return message;
    });
  }

  /** The session's chat, created on first use; marks it most recently used. */
  private sessionFor(sessionId: string): LlamaChatSession {
    const { context, chatWrapper, lib } = this.requireLoaded();
    const existing = this.sessions.get(sessionId);
    if (existing) {
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, existing);
      return existing;
    }
    if (context.sequencesLeft === 0) {
      // The least recently used session that is not generating right now.
      const oldestId = [...this.sessions.keys()].find((id) => !this.activeRuns.has(id));
      if (oldestId === undefined) throw new AppError(ErrorCode.PoolExhausted, `All ${this.options.maxSessions} LLM sessions of this worker are generating.`, true);
      const oldest = this.sessions.get(oldestId)!;
      this.sessions.delete(oldestId);
      oldest.dispose({ disposeSequence: true });
    }
    const session = new lib.LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper });
    this.sessions.set(sessionId, session);
    return session;
  }

  /**
   * Frees the session's sequence (disposing a chat session alone would keep its KV cells). A turn
   * still generating for it stops first and ends with finishReason "abort".
   */
  async release(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    const active = this.activeRuns.get(sessionId);
    if (active) {
      active.stop.abort();
      await active.finished;
    }
    session.dispose({ disposeSequence: true });
  }

  async unload(): Promise<void> {
    await this.disposeModel();
    await this.disposeBackend();
  }

  private async disposeBackend(): Promise<void> {
    const { backend } = this;
    this.backend = undefined;
    if (!backend) return;
    if (!backend.failedModelLoad) await backend.llama.dispose();
  }

  private async disposeModel(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((sessionId) => this.release(sessionId)));
    const { loaded } = this;
    this.loaded = undefined;
    await loaded?.context.dispose();
    await loaded?.model.dispose();
  }

  private requireLoaded(): Loaded {
    if (!this.loaded) throw new AppError(ErrorCode.ModelMissing, 'The LLM worker has no model loaded.', true);
    return this.loaded;
  }

  private log(level: string, message: string): void {
    this.recentLogLines.push(message.trim());
    if (this.recentLogLines.length > RECENT_LOG_LINES) this.recentLogLines.shift();
    if (level === 'error' || level === 'fatal') console.error(`[llama.cpp] ${message.trim()}`);
  }

  /** The error's message plus what llama.cpp logged just before it (its errors alone are vague). */
  private describeFailure(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const logged = this.recentLogLines.filter((line) => line.length > 0).join(' / ');
    return logged ? `${message} (llama.cpp: ${logged})` : message;
  }
}
