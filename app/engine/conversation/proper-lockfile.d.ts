/** The part of proper-lockfile (MIT) the conversation leases use; the package ships no types. */
declare module 'proper-lockfile' {
  export interface LockOptions {
    /** A lock whose folder was not refreshed for this long is stale and may be taken over (at least 2000 ms). */
    stale?: number;
    /** How often the holder refreshes it (at least 1000 ms, at most stale / 2). */
    update?: number;
    /** Resolve symlinks first (needs the file to exist). */
    realpath?: boolean;
    retries?: number;
    /** The lock was taken over or could not be refreshed in time: the holder must stop. */
    onCompromised?: (error: Error) => void;
  }
  /** Takes the lock (`<file>.lock`, a folder); resolves with its release; rejects with code `ELOCKED` when another holds it. */
  export function lock(file: string, options?: LockOptions): Promise<() => Promise<void>>;
  const lockfile: { lock: typeof lock };
  export default lockfile;
}
