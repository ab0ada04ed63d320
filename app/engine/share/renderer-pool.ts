/**
 * Pre-warmed avatar renderers for remote conversations: each is a page of the app in pooled mode
 * (`/?token=…&remote=1`) that loads the avatar, opens its own engine session and registers with the
 * remote-talk hub. Where the page runs is the launcher's business: headless Chromium pages under
 * `serve` (remote-chromium-launcher.ts), hidden windows in Electron (electron/renderer-pool-windows.ts).
 */

/** One running renderer page. */
export interface PooledRendererHandle {
  /** Settles when the page is gone (crashed, closed by the user, or closed by `close`). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Starts renderer pages; `dispose` ends whatever the launcher itself holds (a browser). */
export interface RendererLauncher {
  launch(url: string): Promise<PooledRendererHandle>;
  dispose(): Promise<void>;
}

export interface RendererPoolOptions {
  /** Renderers kept running. */
  size: number;
  /** The pooled page's address (app token and `remote=1`). */
  url: string;
  /** Wait before replacing a renderer that went away, doubled on each failure in a row. */
  restartDelayMs?: number;
  /** Longest wait between replacement attempts. */
  maxRestartDelayMs?: number;
  /** Where launch failures are reported (serve prints them). */
  log?: (line: string) => void;
}

const STABLE_AFTER_MS = 30_000;

/** Keeps `size` renderer pages running and replaces any that go away, until closed. */
export class RendererPool {
  private readonly slots: Array<PooledRendererHandle | null>;
  private readonly failures: number[];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closing = false;

  constructor(
    private readonly launcher: RendererLauncher,
    private readonly options: RendererPoolOptions,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`A renderer pool needs at least one renderer, got ${options.size}.`);
    this.slots = Array.from({ length: options.size }, () => null);
    this.failures = Array.from({ length: options.size }, () => 0);
  }

  /** Renderer pages running now. */
  get running(): number {
    return this.slots.filter((slot) => slot !== null).length;
  }

  /** Launches every renderer; resolves when all pages are loading (readiness is the hub's `renderer.ready`). */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((_slot, index) => this.launch(index)));
  }

  /** Closes every page and the launcher. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const open = this.slots.filter((slot): slot is PooledRendererHandle => slot !== null);
    this.slots.fill(null);
    await Promise.allSettled(open.map((handle) => handle.close()));
    await this.launcher.dispose();
  }

  private async launch(index: number): Promise<void> {
    if (this.closing) return;
    let handle: PooledRendererHandle;
    try {
      handle = await this.launcher.launch(this.options.url);
    } catch (error) {
      this.options.log?.(`Renderer ${index + 1} could not start: ${error instanceof Error ? error.message : String(error)}`);
      this.scheduleRestart(index);
      return;
    }
    if (this.closing) {
      await handle.close();
      return;
    }
    this.slots[index] = handle;
    const launchedMs = performance.now();
    void handle.closed.then(() => {
      if (this.slots[index] !== handle || this.closing) return;
      this.slots[index] = null;
      // A page that ran a while is a fresh failure; one that dies at once backs off further.
      if (performance.now() - launchedMs > STABLE_AFTER_MS) this.failures[index] = 0;
      this.options.log?.(`Renderer ${index + 1} went away; starting a new one.`);
      this.scheduleRestart(index);
    });
  }

  private scheduleRestart(index: number): void {
    if (this.closing) return;
    const baseMs = this.options.restartDelayMs ?? 1000;
    const delayMs = Math.min(this.options.maxRestartDelayMs ?? 30_000, baseMs * 2 ** this.failures[index]!);
    this.failures[index]! += 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.launch(index);
    }, delayMs);
    this.timers.add(timer);
  }
}
