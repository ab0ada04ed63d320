/** Marks an error after which the engine's state cannot be trusted: the host shuts down cleanly. */
export const ENGINE_CORRUPT = Symbol.for('local-talking-avatar.engine-corrupt');

/** Tags `error` as corrupting the engine (see ENGINE_CORRUPT) and returns it. */
export function markEngineCorrupt<E extends Error>(error: E): E {
  (error as E & { [ENGINE_CORRUPT]?: boolean })[ENGINE_CORRUPT] = true;
  return error;
}

export function isEngineCorrupt(error: unknown): boolean {
  return error instanceof Error && (error as Error & { [ENGINE_CORRUPT]?: boolean })[ENGINE_CORRUPT] === true;
}

export interface ProcessGuardOptions {
  log: (line: string) => void;
  /** Called once for an error that corrupts the engine (or an error storm): shut down, then exit. */
  onFatal: (reason: string) => void;
  /** More escaped errors than this within `stormWindowMs` means something loops: treated as fatal. */
  stormLimit?: number;
  stormWindowMs?: number;
}

/**
 * The host's policy for errors that escape every handler: log them and keep serving (one client's
 * bad request must not end everyone's conversation), but shut down cleanly when the error says the
 * engine itself is corrupt or when errors arrive in a storm. Returns a function that removes it.
 */
export function installProcessGuard(options: ProcessGuardOptions): () => void {
  const stormLimit = options.stormLimit ?? 50;
  const stormWindowMs = options.stormWindowMs ?? 10_000;
  const recentMs: number[] = [];
  let fatal = false;
  const escaped = (kind: string, error: unknown): void => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    options.log(`${kind} (the host keeps serving): ${text}`);
    const nowMs = performance.now();
    recentMs.push(nowMs);
    while (recentMs.length > 0 && nowMs - recentMs[0]! > stormWindowMs) recentMs.shift();
    if (fatal) return;
    if (isEngineCorrupt(error)) {
      fatal = true;
      options.onFatal(`the engine is in an inconsistent state: ${error instanceof Error ? error.message : String(error)}`);
    } else if (recentMs.length > stormLimit) {
      fatal = true;
      options.onFatal(`${recentMs.length} unexpected errors within ${stormWindowMs / 1000} s`);
    }
  };
  const onException = (error: unknown): void => escaped('Unexpected error', error);
  const onRejection = (reason: unknown): void => escaped('Unhandled promise rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
