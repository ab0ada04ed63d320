import { AsyncQueue } from './async-queue';

export interface OrderedMapOptions {
  /** At most this many `map` calls run at once. */
  concurrency: number;
  signal: AbortSignal;
}

/**
 * Maps a stream with bounded concurrency and yields results strictly in input order, whatever
 * order the calls finish in. When the consumer stops or a call fails, calls still running are aborted.
 */
export async function* orderedMap<In, Out>(
  source: AsyncIterable<In>,
  map: (item: In, index: number, signal: AbortSignal) => Promise<Out>,
  options: OrderedMapOptions,
): AsyncIterable<Out> {
  const controller = new AbortController();
  const stop = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', stop, { once: true });
  const started = new AsyncQueue<Promise<Out>>(controller.signal);
  let running = 0;
  let slotFreed: (() => void) | undefined;

  const pump = async (): Promise<void> => {
    let index = 0;
    for await (const item of source) {
      while (running >= options.concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
      if (controller.signal.aborted) return;
      running++;
      const result = map(item, index++, controller.signal).finally(() => {
        running--;
        slotFreed?.();
        slotFreed = undefined;
      });
      // Failures surface when the consumer reaches this item, in order.
      result.catch(() => undefined);
      started.push(result);
    }
    started.end();
  };
  pump().catch((error: unknown) => started.fail(error));

  try {
    for await (const result of started) yield await result;
  } finally {
    options.signal.removeEventListener('abort', stop);
    if (!controller.signal.aborted) controller.abort();
    slotFreed?.();
  }
}
