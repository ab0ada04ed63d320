import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { WorkerStatus } from '../../shared/messages.contract';
import {
  FromWorkerSchema,
  RUN_CONTRACTS,
  type FromWorker,
  type LoadSpec,
  type RunChunkOf,
  type RunInputOf,
  type RunKind,
  type RunResultOf,
  type VadStreamOutput,
  type VadTune,
  type WorkerKind,
} from '../../shared/worker.contract';
import type { HostProcess } from './host-process';

/** Memory a worker reported with its last pong. */
export interface WorkerMemory {
  heapUsedBytes: number;
  externalBytes: number;
}

export interface RunOptions<K extends RunKind> {
  signal?: AbortSignal;
  /** Streamed partial results (`chunk` messages), validated, in order. */
  onChunk?(chunk: RunChunkOf<K>): void;
}

/** A run in flight; results and chunks are checked against its kind's contract before they reach it. */
interface PendingRun {
  kind: RunKind;
  resolve(data: unknown): void;
  reject(error: AppError): void;
  onChunk?(data: unknown): void;
}

/** Where a stream's outputs and failure go. */
export interface StreamListener {
  output(output: VadStreamOutput): void;
  /** The stream ended with an error (its worker failed, or rejected a frame); it takes no more frames. */
  error(error: AppError): void;
}

/** A session's VAD stream in one worker: opened once, then one message per frame, no lease. */
export interface WorkerStream {
  readonly worker: WorkerHandle;
  push(pcm: Float32Array<ArrayBuffer>): void;
  tune(tune: VadTune): void;
  close(): void;
}

type Lifecycle = Exclude<WorkerStatus['state'], 'busy'>;

/**
 * The engine's handle on one model worker (a thread inside a runtime host): loads its model, runs
 * requests, answers pings. Every message from the worker is validated; a message that breaks the
 * protocol fails the request it belongs to with a typed error.
 */
export class WorkerHandle {
  lifecycle: Lifecycle = 'starting';
  loadProgress: number | undefined;
  /** Sessions whose state (KV cache, VAD stream) this worker holds. */
  readonly sessions = new Set<string>();
  leased = false;
  lastLeasedMs = 0;
  private readonly runs = new Map<string, PendingRun>();
  private readonly streams = new Map<string, StreamListener>();
  private load: { resolve(): void; reject(error: AppError): void } | undefined;
  private readonly pings = new Map<number, (memory: WorkerMemory) => void>();
  private nextRequest = 1;
  private nextNonce = 1;
  /** Why the worker left the pool, once it failed. */
  failure: AppError | undefined;

  constructor(
    readonly id: string,
    readonly spec: LoadSpec,
    readonly host: HostProcess,
    private readonly onLifecycle: (worker: WorkerHandle) => void,
  ) {}

  get kind(): WorkerKind {
    return this.spec.kind;
  }

  get status(): WorkerStatus {
    return {
      kind: this.kind,
      workerId: this.id,
      state: this.lifecycle === 'ready' && this.leased ? 'busy' : this.lifecycle,
      model: this.spec.modelName,
      ...(this.loadProgress !== undefined ? { loadProgress: this.loadProgress } : {}),
    };
  }

  /** Starts the thread and loads the model; resolves when the worker reports ready. */
  start(entry: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.load = { resolve, reject };
      this.host.spawnWorker(this.id, entry, {
        message: (raw) => this.receive(raw),
        exit: (description) =>
          this.fail(new AppError(ErrorCode.WorkerCrashed, `The ${this.kind} worker stopped (${description}); it is being restarted.`, true)),
      });
      this.setLifecycle('loading');
      this.host.postToWorker(this.id, { type: 'load', spec: this.spec });
    });
  }

  /** Runs one request; resolves with its kind's validated result, rejects with an AppError (cancelled when `signal` aborts). */
  run<K extends RunKind>(input: RunInputOf<K> & { kind: K }, options: RunOptions<K> = {}): Promise<RunResultOf<K>> {
    if (this.failure) return Promise.reject(this.failure);
    const requestId = `${this.id}#${this.nextRequest++}`;
    return new Promise<RunResultOf<K>>((resolve, reject) => {
      const { signal } = options;
      const onAbort = (): void => this.host.postToWorker(this.id, { type: 'cancel', requestId });
      if (signal?.aborted) {
        reject(new AppError(ErrorCode.Cancelled, 'The request was cancelled.', true));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.runs.set(requestId, {
        kind: input.kind,
        resolve: (data) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(data as RunResultOf<K>);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        ...(options.onChunk ? { onChunk: options.onChunk as (data: unknown) => void } : {}),
      });
      this.host.postToWorker(this.id, { type: 'run', requestId, input });
    });
  }

  /**
   * Opens a stream in this worker (a session's VAD); outputs come back in push order. The worker's
   * failure ends the stream with the failure's error.
   */
  openStream(streamId: string, tune: VadTune, listener: StreamListener): WorkerStream {
    if (this.failure) throw this.failure;
    this.streams.set(streamId, listener);
    this.host.postToWorker(this.id, { type: 'stream.open', streamId, tune });
    let open = true;
    return {
      worker: this,
      push: (pcm) => {
        if (open && !this.failure) this.host.postToWorker(this.id, { type: 'stream.push', streamId, pcm });
      },
      tune: (next) => {
        if (open && !this.failure) this.host.postToWorker(this.id, { type: 'stream.tune', streamId, tune: next });
      },
      close: () => {
        if (!open) return;
        open = false;
        if (this.streams.get(streamId) === listener) this.streams.delete(streamId);
        if (!this.failure) this.host.postToWorker(this.id, { type: 'stream.close', streamId });
      },
    };
  }

  /** Forget a session's state in the worker. */
  release(sessionId: string): void {
    this.host.postToWorker(this.id, { type: 'release', sessionId });
  }

  /** Pings the worker; rejects with AppError(worker_hung) when no pong arrives within `deadlineMs`. */
  ping(deadlineMs: number): Promise<WorkerMemory> {
    const nonce = this.nextNonce++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(nonce);
        reject(new AppError(ErrorCode.WorkerHung, `The ${this.kind} worker stopped responding; it is being restarted.`, true));
      }, deadlineMs);
      this.pings.set(nonce, (memory) => {
        clearTimeout(timer);
        resolve(memory);
      });
      this.host.postToWorker(this.id, { type: 'ping', nonce });
    });
  }

  /** Marks the worker failed: pending runs and the load reject with `error`, the thread is ended. */
  fail(error: AppError): void {
    if (this.failure) return;
    this.failure = error;
    this.load?.reject(error);
    this.load = undefined;
    for (const run of this.runs.values()) run.reject(error);
    this.runs.clear();
    for (const stream of this.streams.values()) stream.error(error);
    this.streams.clear();
    this.host.terminateWorker(this.id);
    this.setLifecycle('failed');
  }

  /** The worker left the pool in an orderly way (shutdown). */
  stop(): void {
    this.failure ??= new AppError(ErrorCode.Cancelled, 'The engine is shutting down.', true);
    for (const run of this.runs.values()) run.reject(this.failure);
    this.runs.clear();
    for (const stream of this.streams.values()) stream.error(this.failure);
    this.streams.clear();
    this.setLifecycle('stopped');
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  private setLifecycle(lifecycle: Lifecycle): void {
    if (this.lifecycle === lifecycle || this.lifecycle === 'failed' || this.lifecycle === 'stopped') return;
    this.lifecycle = lifecycle;
    this.onLifecycle(this);
  }

  private receive(raw: unknown): void {
    const parsed = FromWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      this.protocolViolation(raw, parsed.error.issues[0]?.message ?? 'invalid');
      return;
    }
    const message: FromWorker = parsed.data;
    switch (message.type) {
      case 'ready':
        this.loadProgress = undefined;
        this.setLifecycle('ready');
        this.load?.resolve();
        this.load = undefined;
        return;
      case 'progress':
        if (message.requestId === undefined && this.lifecycle === 'loading') {
          this.loadProgress = message.fraction;
          this.onLifecycle(this);
        }
        return;
      case 'chunk': {
        const run = this.runs.get(message.requestId);
        if (!run?.onChunk) return;
        const chunk = RUN_CONTRACTS[run.kind].chunk.safeParse(message.data);
        if (chunk.success) run.onChunk(chunk.data);
        else this.protocolViolation(message, `its ${run.kind} chunk: ${chunk.error.issues[0]?.message ?? 'invalid'}`);
        return;
      }
      case 'result': {
        const run = this.runs.get(message.requestId);
        if (!run) return;
        const result = RUN_CONTRACTS[run.kind].result.safeParse(message.data);
        if (!result.success) {
          this.protocolViolation(message, `its ${run.kind} result: ${result.error.issues[0]?.message ?? 'invalid'}`);
          return;
        }
        this.runs.delete(message.requestId);
        run.resolve(result.data);
        return;
      }
      case 'stream.output':
        this.streams.get(message.streamId)?.output(message.output);
        return;
      case 'error': {
        const error = new AppError(message.code, message.message, message.recoverable);
        if (message.streamId !== undefined) {
          this.streams.get(message.streamId)?.error(error);
          this.streams.delete(message.streamId);
        } else if (message.requestId !== undefined) {
          this.runs.get(message.requestId)?.reject(error);
          this.runs.delete(message.requestId);
        } else if (this.load) {
          this.fail(error);
        }
        return;
      }
      case 'pong':
        this.pings.get(message.nonce)?.({ heapUsedBytes: message.heapUsedBytes, externalBytes: message.externalBytes });
        this.pings.delete(message.nonce);
        return;
      case 'unloaded':
        return;
    }
  }

  /** A worker serves one lease at a time, so a message we cannot parse belongs to its current runs. */
  private protocolViolation(raw: unknown, reason: string): void {
    const type = typeof (raw as { type?: unknown } | null)?.type === 'string' ? `"${(raw as { type: string }).type}"` : 'without a type';
    const error = new AppError(ErrorCode.InvalidMessage, `The ${this.kind} worker sent an invalid message ${type}: ${reason}`, true);
    for (const [requestId, run] of this.runs) {
      run.reject(error);
      this.host.postToWorker(this.id, { type: 'cancel', requestId });
    }
    this.runs.clear();
  }
}
