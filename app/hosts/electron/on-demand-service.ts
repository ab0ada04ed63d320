/** Something started on demand that can be closed (the desktop share server). */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Starts a service on first use instead of at launch: the first `get()` starts it, later and
 * concurrent callers share that one start, a failed start is forgotten so the next `get()` tries
 * again, and after `close()` nothing starts any more (the app is quitting).
 */
export class OnDemandService<T extends Closable> {
  private starting: Promise<T> | null = null;
  private running: T | null = null;
  private closed = false;

  constructor(private readonly start: () => Promise<T>) {}

  /** The running service, started now if needed. */
  get(): Promise<T> {
    if (this.closed) return Promise.reject(new Error('Closed: the app is quitting.'));
    if (!this.starting) {
      const starting = (async () => this.start())();
      this.starting = starting;
      starting.then(
        (service) => {
          if (this.starting === starting) this.running = service;
        },
        () => {
          if (this.starting === starting) this.starting = null;
        },
      );
    }
    return this.starting;
  }

  /** The service once it runs; null before, while starting, after a failed start and after close. */
  get current(): T | null {
    return this.running;
  }

  /** Closes the service if it was started (waiting for a start in flight); no later `get()` starts it. */
  async close(): Promise<void> {
    this.closed = true;
    const starting = this.starting;
    this.starting = null;
    this.running = null;
    if (!starting) return;
    const service = await starting.catch(() => null);
    await service?.close();
  }
}
