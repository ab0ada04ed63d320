import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes one generation leaves behind until V8 collects a small JavaScript object: node-llama-cpp
 * 3.x creates a native sampler per generation whose candidate buffer (one 12-byte
 * `llama_token_data` per vocabulary entry: 0.6 MB for SmolLM2's 49 k tokens, 1.5 MB for a 128 k
 * vocabulary) is freed by the C++ destructor, not by `dispose()`, so only when the wrapper is
 * garbage collected. V8 never sees that memory; the worker's heap is small and barely grows, so
 * major collections are rare and the buffers pile up: the llama host's live native heap grew
 * 350 → 368 MB over eight minutes of a soak (heaptrack: 13 MB from 22 `AddonSampler` constructors),
 * the soak's 111 MB/h of RSS growth.
 */
export const SAMPLER_BYTES_PER_VOCABULARY_TOKEN = 12;

/** Native garbage let pile up before a full collection (a few ms on a worker heap of ~25 MB). */
export const DEFAULT_NATIVE_GARBAGE_LIMIT_BYTES = 8 * 1024 * 1024;

/** A full, synchronous garbage collection of this thread's V8 heap. */
export type FullCollection = () => void;

/**
 * `gc()` for this isolate: the global one when the process runs with `--expose-gc`, else the same
 * function obtained by turning the flag on and reading it from a fresh context (what Jest does for
 * `--logHeapUsage`); the flag only exposes the function.
 */
export function fullCollection(): FullCollection {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as FullCollection;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as FullCollection;
}

/**
 * Counts native memory that only a garbage collection frees and collects once it passes a limit,
 * so the heap stays bounded by the limit instead of by V8's view of a small heap.
 */
export class NativeGarbage {
  private pendingBytes = 0;
  private collections = 0;

  constructor(
    private readonly limitBytes = DEFAULT_NATIVE_GARBAGE_LIMIT_BYTES,
    private readonly collect: FullCollection = fullCollection(),
  ) {
    if (!(limitBytes > 0)) throw new RangeError(`The native garbage limit must be positive, got ${limitBytes}.`);
  }

  /** Notes `bytes` left for the collector; collects (synchronously) once the total reaches the limit. */
  add(bytes: number): void {
    if (!(bytes > 0)) return;
    this.pendingBytes += bytes;
    if (this.pendingBytes < this.limitBytes) return;
    this.pendingBytes = 0;
    this.collections += 1;
    this.collect();
  }

  /** Bytes noted since the last collection. */
  get pending(): number {
    return this.pendingBytes;
  }

  /** Collections made so far. */
  get count(): number {
    return this.collections;
  }
}
