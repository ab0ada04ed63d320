import { abortError } from './stage';

/**
 * A push-to-pull bridge: producers `push` values (worker callbacks), one consumer reads them with
 * `for await`. Ends with `end()`, fails with `fail(error)`, and fails when `signal` aborts.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly values: T[] = [];
  private waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  private done = false;
  private error: unknown;

  constructor(signal?: AbortSignal) {
    if (signal?.aborted) this.fail(abortError(signal));
    else signal?.addEventListener('abort', () => this.fail(abortError(signal)), { once: true });
  }

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
      this.waiting.resolve({ value, done: false });
      this.waiting = undefined;
    } else this.values.push(value);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.waiting?.resolve({ value: undefined, done: true });
    this.waiting = undefined;
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.values.length = 0;
    this.waiting?.reject(error);
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.values.length > 0) return Promise.resolve({ value: this.values.shift()!, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
