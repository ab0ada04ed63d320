import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';

/**
 * What the soak reads from the processes it watches, from outside: resident memory and open file
 * descriptors from /proc, and the V8 heap (after a full GC) over each Node process's inspector.
 */

/**
 * Resident memory of `pid` in MB, or undefined when the process is gone: `VmRSS` (all of it) or
 * `RssAnon` (its heap and stacks, without the mapped files such as a model's weights and the code).
 */
export function rssMb(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of `pid`, or undefined when the process is gone. */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (every thread's `children` list). */
export function childPids(pid: number): number[] {
  try {
    const children: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) children.push(...text.split(/\s+/).map(Number));
    }
    return children;
  } catch {
    return [];
  }
}

/** The process's argv (NUL-separated /proc cmdline). */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part.length > 0);
  } catch {
    return [];
  }
}

/** The engine of a `serve` host started as `node scripts/serve.mjs` (its Node child running out/main/serve.js). */
export function servePidOf(wrapperPid: number): number | undefined {
  return childPids(wrapperPid).find((pid) => commandLine(pid).some((arg) => arg.endsWith('serve.js')));
}

/** The runtime host processes of an engine: pid → host name. */
export function runtimeHostsOf(enginePid: number): Map<number, string> {
  const hosts = new Map<number, string>();
  for (const pid of childPids(enginePid)) {
    const argv = commandLine(pid);
    if (argv.some((arg) => /runtime-host\.(js|ts)$/.test(arg))) hosts.set(pid, argv.at(-1)!);
  }
  return hosts;
}

/** `Debugger listening on ws://…` lines a Node process started with `--inspect` prints. */
export function inspectorUrls(output: string): string[] {
  return [...output.matchAll(/Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+)/g)].map((match) => match[1]!);
}

/** One Node process's inspector session: its pid and its heap after a full collection. */
export class InspectorProbe {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  /** Worker threads' inspector sessions (NodeWorker domain), once `workerMemory` has enabled it. */
  private readonly workerSessions = new Set<string>();
  private workersEnabled = false;
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        id?: number;
        method?: string;
        params?: { sessionId?: string; message?: string };
        result?: unknown;
        error?: { message: string };
      };
      if (message.method === 'NodeWorker.attachedToWorker' && message.params?.sessionId) this.workerSessions.add(message.params.sessionId);
      if (message.method === 'NodeWorker.detachedFromWorker' && message.params?.sessionId) this.workerSessions.delete(message.params.sessionId);
      // A worker's reply comes wrapped, keyed by the id this probe gave it (ids are unique across sessions).
      const reply =
        message.method === 'NodeWorker.receivedMessageFromWorker' && message.params?.message
          ? (JSON.parse(message.params.message) as { id?: number; result?: unknown; error?: { message: string } })
          : message;
      const waiter = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id!);
      if (reply.error) waiter.reject(new Error(reply.error.message));
      else waiter.resolve(reply.result);
    });
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('inspector closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string): Promise<InspectorProbe> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new InspectorProbe(socket);
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  private call(method: string, params: object = {}, timeoutMs = 30_000, workerSession?: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const message = JSON.stringify({ id, method, params });
      if (workerSession === undefined) this.socket.send(message);
      else this.socket.send(JSON.stringify({ id: this.nextId++, method: 'NodeWorker.sendMessageToWorker', params: { sessionId: workerSession, message } }));
    });
  }

  /** The inspected process's pid. */
  async pid(): Promise<number> {
    const result = (await this.call('Runtime.evaluate', { expression: 'process.pid', returnByValue: true })) as { result: { value: number } };
    return result.result.value;
  }

  /** Used V8 heap in MB after a full garbage collection (what a leak keeps, not garbage not yet collected). */
  async heapMbAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const usage = (await this.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize / (1024 * 1024);
  }

  /**
   * The process's worker threads (the runtime hosts run their models in one): V8 heap in use and the
   * memory V8 counts outside it (ArrayBuffers, Buffers), summed over workers, MB. A worker's heap is
   * its own isolate: the process's `heapMbAfterGc` never sees it. No collection is forced here: a
   * worker's collections free native memory its wrappers hold (llama's samplers), and the soak
   * measures what the app does on its own, so the figure includes garbage not yet collected.
   */
  async workerMemory(): Promise<{ heapMb: number; externalMb: number; workers: number }> {
    if (!this.workersEnabled) {
      await this.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
      this.workersEnabled = true;
      // Already running workers attach right after enable.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let heapMb = 0;
    let externalMb = 0;
    let workers = 0;
    for (const session of this.workerSessions) {
      const result = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true }, 30_000, session)) as { result: { value: string } };
      const usage = JSON.parse(result.result.value) as { heapUsed: number; external: number };
      heapMb += usage.heapUsed / (1024 * 1024);
      externalMb += usage.external / (1024 * 1024);
      workers++;
    }
    return { heapMb, externalMb, workers };
  }

  close(): void {
    this.socket.close();
  }
}

/** Least-squares slope of `y` over `x` (NaN with fewer than two distinct x). */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const point of points) {
    numerator += (point.x - meanX) * (point.y - meanY);
    denominator += (point.x - meanX) ** 2;
  }
  return denominator === 0 ? Number.NaN : numerator / denominator;
}

/** Growth per hour of a series sampled at `atMs`, fitted over the samples at or after `warmUpMs`. */
export function growthPerHour(samples: ReadonlyArray<{ atMs: number; value: number }>, warmUpMs: number): number {
  const points = samples.filter((sample) => sample.atMs >= warmUpMs).map((sample) => ({ x: sample.atMs / 3_600_000, y: sample.value }));
  return slope(points);
}
