import { FromHostSchema, type FromHost } from '../../shared/host.contract';
import type { HostChannel, HostLauncher } from './host-launcher';

/** What a worker handle hears from its thread through the host. */
export interface WorkerListener {
  message(raw: unknown): void;
  /** The thread ended (crash, `process.exit` in the thread, or terminate). */
  exit(description: string): void;
}

/** The engine side of one runtime host process: spawns threads in it and routes their messages. */
export class HostProcess {
  private channel: HostChannel | undefined;
  private readonly listeners = new Map<string, WorkerListener>();
  private readonly pings = new Map<number, (receivedMs: number) => void>();
  private nextNonce = 1;
  private exitListener: ((description: string) => void) | undefined;
  private exited = false;

  constructor(
    readonly name: string,
    private readonly launcher: HostLauncher,
  ) {}

  get pid(): number | undefined {
    return this.channel?.pid;
  }

  get alive(): boolean {
    return this.channel !== undefined && !this.exited;
  }

  /** Launches the process; resolves when it reports ready, rejects if it dies first. */
  start(onExit: (description: string) => void): Promise<void> {
    this.exitListener = onExit;
    const channel = this.launcher.launch(this.name);
    this.channel = channel;
    return new Promise((resolve, reject) => {
      let ready = false;
      channel.onMessage((raw) => {
        // The host is our own code, but a message that does not match the contract is a bug to see, not to act on.
        const parsed = FromHostSchema.safeParse(raw);
        if (!parsed.success) {
          console.warn(`runtime host "${this.name}" sent a message outside the contract: ${parsed.error.message}`);
          return;
        }
        const message = parsed.data;
        if (message.type === 'host-ready') {
          ready = true;
          resolve();
        } else this.route(message);
      });
      channel.onExit((description) => {
        this.exited = true;
        for (const listener of this.listeners.values()) listener.exit(`its host process ${description}`);
        this.listeners.clear();
        if (!ready) reject(new Error(`runtime host "${this.name}" ${description} before it was ready`));
        else this.exitListener?.(description);
      });
    });
  }

  spawnWorker(workerId: string, entry: string, listener: WorkerListener): void {
    this.listeners.set(workerId, listener);
    this.channel?.send({ type: 'spawn', workerId, entry });
  }

  postToWorker(workerId: string, message: unknown): void {
    if (this.alive) this.channel?.send({ type: 'to-worker', workerId, message });
  }

  terminateWorker(workerId: string): void {
    this.listeners.delete(workerId);
    if (this.alive) this.channel?.send({ type: 'terminate', workerId });
  }

  /** Round trip engine → host → engine in ms (the process hop, twice). */
  ping(): Promise<number> {
    const nonce = this.nextNonce++;
    const sentMs = performance.now();
    return new Promise((resolve) => {
      this.pings.set(nonce, (receivedMs) => resolve(receivedMs - sentMs));
      this.channel?.send({ type: 'ping', nonce });
    });
  }

  /** Ordered exit (workers unload, threads end, process exits); killed when it overruns `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    if (!channel || this.exited) return;
    this.exitListener = undefined;
    const exited = new Promise<void>((resolve) => channel.onExit(() => resolve()));
    channel.send({ type: 'exit', timeoutMs: timeoutMs / 2 });
    const timer = setTimeout(() => channel.kill(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private route(message: FromHost): void {
    switch (message.type) {
      case 'from-worker':
        this.listeners.get(message.workerId)?.message(message.message);
        return;
      case 'worker-exit':
        this.listeners.get(message.workerId)?.exit(`its thread exited with code ${message.exitCode}`);
        this.listeners.delete(message.workerId);
        return;
      case 'worker-error':
        this.listeners.get(message.workerId)?.exit(`its thread failed: ${message.message}`);
        this.listeners.delete(message.workerId);
        return;
      case 'pong':
        this.pings.get(message.nonce)?.(performance.now());
        this.pings.delete(message.nonce);
        return;
      case 'host-ready':
        return;
    }
  }
}
