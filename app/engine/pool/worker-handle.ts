import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { WorkerStatus } from '../../shared/messages.contract';
import { FromWorkerSchema, type FromWorker, type LoadSpec, type RunInput, type WorkerKind } from '../../shared/worker.contract';
import type { HostProcess } from './host-process';

/** Memory a worker reported with its last pong. */
export interface WorkerMemory {
  heapUsedBytes: number;
  externalBytes: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Streamed partial results (`chunk` messages), in order. */
  onChunk?(data: unknown): void;
}

interface PendingRun {
  resolve(data: unknown): void;
  reject(error: AppError): void;
  onChunk?(data: unknown): void;
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

  /** Runs one request; rejects with an AppError (cancelled when `signal` aborts). */
  run(input: RunInput, options: RunOptions = {}): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const requestId = `${this.id}#${this.nextRequest++}`;
    return new Promise((resolve, reject) => {
      const { signal } = options;
      const onAbort = (): void => this.host.postToWorker(this.id, { type: 'cancel', requestId });
      if (signal?.aborted) {
        reject(new AppError(ErrorCode.Cancelled, 'The request was cancelled.', true));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.runs.set(requestId, {
        resolve: (data) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(data);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        onChunk: options.onChunk,
      });
      this.host.postToWorker(this.id, { type: 'run', requestId, input });
    });
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
    this.host.terminateWorker(this.id);
    this.setLifecycle('failed');
  }

  /** The worker left the pool in an orderly way (shutdown). */
  stop(): void {
    this.failure ??= new AppError(ErrorCode.Cancelled, 'The engine is shutting down.', true);
    for (const run of this.runs.values()) run.reject(this.failure);
    this.runs.clear();
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
      case 'chunk':
        this.runs.get(message.requestId)?.onChunk?.(message.data);
        return;
      case 'result':
        this.runs.get(message.requestId)?.resolve(message.data);
        this.runs.delete(message.requestId);
        return;
      case 'error': {
        const error = new AppError(message.code, message.message, message.recoverable);
        if (message.requestId !== undefined) {
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
