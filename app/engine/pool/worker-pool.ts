import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { WorkerStatus } from '../../shared/messages.contract';
import type { LoadSpec, VadTune, WorkerKind } from '../../shared/worker.contract';
import { workerEntryFor } from './worker-entry';
import { HostProcess } from './host-process';
import type { HostLauncher } from './host-launcher';
import { WorkerHandle, type StreamListener, type WorkerStream } from './worker-handle';

/** How many workers of one kind to keep warm, and what they load. */
export interface PoolKindConfig {
  count: number;
  spec: LoadSpec;
  /** Runtime host process the workers live in; kinds of one engine share a host by default. */
  host?: string;
  /**
   * Session affinity. `exclusive`: a worker holds one session's state (LLM KV cache) and is leased
   * to that session again; another session may take it over (the old state is released).
   * `shared`: a worker holds many sessions' state (VAD streams); a session always goes back to it.
   */
  affinity?: 'exclusive' | 'shared';
}

export interface PoolHealthConfig {
  pingIntervalMs: number;
  pingDeadlineMs: number;
  /** A worker whose heap + external memory passes this is replaced. */
  memoryCeilingBytes: number;
}

export interface PoolConfig {
  kinds: Partial<Record<WorkerKind, PoolKindConfig>>;
  launcher: HostLauncher;
  /** How long `lease` waits for a free worker before AppError(pool_exhausted). */
  leaseTimeoutMs: number;
  health: PoolHealthConfig;
  /** Delay before respawning a dead host; doubles on repeated failures (max 5 s). */
  hostRestartDelayMs: number;
  shutdownTimeoutMs: number;
}

/** A worker lent to one session for one job; `release` returns it (idempotent). */
export interface Lease {
  readonly worker: WorkerHandle;
  /** True when the worker already held this session's state. */
  readonly stickyHit: boolean;
  release(): void;
}

/** A kind whose replacements keep failing before becoming ready stops being replaced after this many. */
const MAX_REPLACEMENTS_IN_A_ROW = 3;

interface Waiter {
  kind: WorkerKind;
  sessionId: string;
  resolve(lease: Lease): void;
  reject(error: AppError): void;
  timer: NodeJS.Timeout;
}

interface HostSlot {
  host: HostProcess;
  name: string;
  restarts: number;
}

/**
 * Warm pool of model workers in runtime host processes: starts and loads them before sessions need
 * them, leases one per job with session affinity, supervises health, replaces crashed or hung
 * workers and respawns dead hosts.
 */
export class WorkerPool {
  private readonly workers: WorkerHandle[] = [];
  private readonly hosts = new Map<string, HostSlot>();
  private readonly waiters: Waiter[] = [];
  private readonly statusListeners: Array<() => void> = [];
  private supervisor: NodeJS.Timeout | undefined;
  private readonly pinging = new Set<WorkerHandle>();
  private nextWorker = 1;
  private stopping = false;
  /** Hosts whose death was acted on (each is restarted once). */
  private readonly exitedHosts = new WeakSet<HostProcess>();
  /** Replacements per kind since a worker of that kind last became ready. */
  private readonly failuresInARow = new Map<WorkerKind, number>();

  constructor(private readonly config: PoolConfig) {}

  /** Launches every host and loads every worker; resolves when all are ready. */
  async start(): Promise<void> {
    const groups = new Map<string, PoolKindConfig[]>();
    for (const kindConfig of Object.values(this.config.kinds)) {
      const name = kindConfig.host ?? kindConfig.spec.engine;
      groups.set(name, [...(groups.get(name) ?? []), kindConfig]);
    }
    await Promise.all([...groups.keys()].map((name) => this.startHost(name)));
    this.supervisor = setInterval(() => this.checkHealth(), this.config.health.pingIntervalMs);
    this.supervisor.unref();
  }

  /** Lends a ready worker of `kind` to `sessionId`, preferring the one holding its state. */
  lease(kind: WorkerKind, sessionId: string, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(AppError.from(signal.reason));
    if (this.stopping) return Promise.reject(new AppError(ErrorCode.Cancelled, 'The engine is shutting down.', true));
    if (!this.config.kinds[kind]) {
      return Promise.reject(new AppError(ErrorCode.ModelMissing, `No ${kind} model is configured.`, false));
    }
    const lease = this.tryLease(kind, sessionId);
    if (lease) return Promise.resolve(lease);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.removeWaiter(waiter)) return;
        clearTimeout(waiter.timer);
        reject(AppError.from(signal?.reason));
      };
      // Every way out of the queue removes the abort listener: a session's signal lives long.
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        kind,
        sessionId,
        resolve: (lease) => {
          settle();
          resolve(lease);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          const count = this.config.kinds[kind]?.count ?? 0;
          const anyReady = this.workers.some((worker) => worker.kind === kind && worker.lifecycle === 'ready');
          const why = anyReady
            ? `All ${count} ${kind} worker${count === 1 ? ' is' : 's are'} busy`
            : `The ${kind} model is still loading or restarting`;
          waiter.reject(new AppError(ErrorCode.PoolExhausted, `${why}; waited ${this.config.leaseTimeoutMs} ms. Try again in a moment.`, true));
        }, this.config.leaseTimeoutMs),
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Opens the session's VAD stream in the worker that keeps its state (shared affinity). The stream
   * holds no lease: frames are tiny and many sessions' streams share one worker, one message each.
   */
  async openStream(sessionId: string, tune: VadTune, listener: StreamListener, signal?: AbortSignal): Promise<WorkerStream> {
    const lease = await this.lease('vad', sessionId, signal);
    lease.release();
    return lease.worker.openStream(sessionId, tune, listener);
  }

  private removeWaiter(waiter: Waiter): boolean {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    return index >= 0;
  }

  /** The session ended: its sticky claims end and workers forget its state. */
  endSession(sessionId: string): void {
    for (const worker of this.workers) {
      if (!worker.sessions.delete(sessionId)) continue;
      if (!worker.failed) worker.release(sessionId);
    }
  }

  status(): WorkerStatus[] {
    return this.workers.map((worker) => worker.status);
  }

  /** True when every configured kind has at least one loaded worker. */
  get ready(): boolean {
    return (Object.keys(this.config.kinds) as WorkerKind[]).every((kind) =>
      this.workers.some((worker) => worker.kind === kind && worker.lifecycle === 'ready'),
    );
  }

  /** Called on worker lifecycle changes (starting, loading, ready, failed, stopped). */
  onStatus(listener: () => void): void {
    this.statusListeners.push(listener);
  }

  /** The live workers of a kind (tests, benches, diagnostics). */
  workersOf(kind: WorkerKind): readonly WorkerHandle[] {
    return this.workers.filter((worker) => worker.kind === kind);
  }

  /** The host process named `name` (tests read its pid; benches time its hop). */
  host(name: string): HostProcess | undefined {
    return this.hosts.get(name)?.host;
  }

  /** Ordered shutdown: waiters fail, workers unload, hosts exit. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.supervisor);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new AppError(ErrorCode.Cancelled, 'The engine is shutting down.', true));
    }
    for (const worker of this.workers) worker.stop();
    await Promise.all([...this.hosts.values()].map((slot) => slot.host.shutdown(this.config.shutdownTimeoutMs)));
    this.hosts.clear();
  }

  private kindsOfHost(name: string): PoolKindConfig[] {
    return Object.values(this.config.kinds).filter((kindConfig) => (kindConfig.host ?? kindConfig.spec.engine) === name);
  }

  private async startHost(name: string): Promise<void> {
    const host = new HostProcess(name, this.config.launcher);
    const slot: HostSlot = this.hosts.get(name) ?? { name, host, restarts: 0 };
    // Workers left listed as failed in the previous process are gone with it.
    for (let i = this.workers.length - 1; i >= 0; i--) if (this.workers[i]!.host === slot.host) this.workers.splice(i, 1);
    slot.host = host;
    this.hosts.set(name, slot);
    await slot.host.start((description) => this.onHostExit(slot, host, description));
    const starts: Promise<void>[] = [];
    for (const kindConfig of this.kindsOfHost(name)) {
      for (let i = 0; i < kindConfig.count; i++) starts.push(this.startWorker(kindConfig.spec, slot.host));
    }
    await Promise.all(starts);
    slot.restarts = 0;
  }

  private async startWorker(spec: LoadSpec, host: HostProcess): Promise<void> {
    const worker = new WorkerHandle(`${spec.kind}-${this.nextWorker++}`, spec, host, (changed) => this.onLifecycle(changed));
    this.workers.push(worker);
    this.emitStatus();
    await worker.start(workerEntryFor(spec.engine));
  }

  private onLifecycle(worker: WorkerHandle): void {
    if (worker.lifecycle === 'ready') {
      this.failuresInARow.set(worker.kind, 0);
      this.dispatch();
    }
    if (worker.lifecycle === 'failed') this.onWorkerFailed(worker);
    this.emitStatus();
  }

  private emitStatus(): void {
    for (const listener of this.statusListeners) listener();
  }

  private tryLease(kind: WorkerKind, sessionId: string): Lease | undefined {
    const ofKind = this.workers.filter((worker) => worker.kind === kind && worker.lifecycle === 'ready');
    const free = ofKind.filter((worker) => !worker.leased);
    const affinity = this.config.kinds[kind]?.affinity;
    const own = ofKind.find((worker) => worker.sessions.has(sessionId));
    let worker: WorkerHandle | undefined;
    if (affinity === 'shared') {
      // The session's stream state lives in one worker: wait for it rather than split the stream.
      worker = own ?? free.reduce<WorkerHandle | undefined>((best, candidate) => (!best || candidate.sessions.size < best.sessions.size ? candidate : best), undefined);
      if (worker?.leased) return undefined;
    } else {
      const unclaimed = free.find((candidate) => candidate.sessions.size === 0);
      // Taking another session's worker costs that session its cached state: take the least recently used.
      const leastRecent = free.reduce<WorkerHandle | undefined>((oldest, candidate) => (!oldest || candidate.lastLeasedMs < oldest.lastLeasedMs ? candidate : oldest), undefined);
      worker = own && !own.leased ? own : (unclaimed ?? leastRecent);
    }
    if (!worker) return undefined;
    const stickyHit = affinity !== undefined && worker === own;
    if (affinity === 'exclusive' && !stickyHit) {
      for (const other of worker.sessions) worker.release(other);
      worker.sessions.clear();
    }
    if (affinity !== undefined) worker.sessions.add(sessionId);
    worker.leased = true;
    worker.lastLeasedMs = performance.now();
    let released = false;
    return {
      worker,
      stickyHit,
      release: () => {
        if (released) return;
        released = true;
        worker.leased = false;
        if (!worker.failed) this.dispatch();
      },
    };
  }

  private dispatch(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const lease = this.tryLease(waiter.kind, waiter.sessionId);
      if (lease) {
        this.waiters.splice(i, 1);
        clearTimeout(waiter.timer);
        waiter.resolve(lease);
      } else i++;
    }
  }

  private checkHealth(): void {
    const { pingDeadlineMs, memoryCeilingBytes } = this.config.health;
    for (const worker of this.workers) {
      if (worker.lifecycle !== 'ready' || this.pinging.has(worker)) continue;
      this.pinging.add(worker);
      worker
        .ping(pingDeadlineMs)
        .then((memory) => {
          if (memory.heapUsedBytes + memory.externalBytes > memoryCeilingBytes) {
            const usedMb = Math.round((memory.heapUsedBytes + memory.externalBytes) / 1e6);
            worker.fail(new AppError(ErrorCode.WorkerOutOfMemory, `The ${worker.kind} worker used ${usedMb} MB, over its limit; it is being restarted.`, true));
          }
        })
        .catch((error: unknown) => worker.fail(AppError.from(error)))
        .finally(() => this.pinging.delete(worker));
    }
  }

  /** A failed worker leaves the pool; a replacement loads in the same host unless the host is gone. */
  private onWorkerFailed(worker: WorkerHandle): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return;
    if (this.stopping || !worker.host.alive) {
      this.workers.splice(index, 1);
      return;
    }
    const failures = (this.failuresInARow.get(worker.kind) ?? 0) + 1;
    this.failuresInARow.set(worker.kind, failures);
    if (worker.failure?.recoverable === false || failures > MAX_REPLACEMENTS_IN_A_ROW) {
      // Stays listed as failed: a worker that cannot start would otherwise be replaced forever.
      console.warn(`${worker.kind} worker ${worker.id} failed and is not replaced: ${worker.failure?.message ?? 'unknown failure'}`);
      return;
    }
    this.workers.splice(index, 1);
    const delayMs = failures === 1 ? 0 : Math.min(5000, this.config.hostRestartDelayMs * 2 ** (failures - 1));
    setTimeout(() => {
      if (this.stopping || !worker.host.alive) return;
      this.startWorker(worker.spec, worker.host).catch(() => {
        // The replacement's own failure goes through this path again.
      });
    }, delayMs);
  }

  private onHostExit(slot: HostSlot, host: HostProcess, description: string): void {
    // A host that dies while its workers load is reported twice (its exit, and the failed start):
    // it is restarted once, or a second replacement would orphan the first (a live process, lost).
    if (this.stopping || this.exitedHosts.has(host)) return;
    this.exitedHosts.add(host);
    // Workers of the dead host already failed (their threads' exit); respawn and re-warm.
    const delayMs = Math.min(5000, this.config.hostRestartDelayMs * 2 ** slot.restarts);
    slot.restarts++;
    console.warn(`runtime host "${slot.name}" ${description}; restarting in ${delayMs} ms`);
    setTimeout(() => {
      if (this.stopping) return;
      this.startHost(slot.name).catch((error: unknown) => {
        if (!slot.host.alive) this.onHostExit(slot, slot.host, `failed to restart (${error instanceof Error ? error.message : String(error)})`);
      });
    }, delayMs);
  }
}
