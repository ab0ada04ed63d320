import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Lock files that hold the pid of the process that took them, so that two processes (or two pulls in
 * one) never write the same files. A lock whose process no longer runs is taken over.
 */

export interface PidLockOptions {
  /** A lock older than this is taken over even though its pid runs (the pid may have been reused after a crash); default: never. */
  maxAgeMs?: number;
}

export type PidLockAttempt = { taken: true; release: () => Promise<void> } | { taken: false; holderPid: number | null };

/** A lock file with no pid in it is still being written for this long at most; after that it is debris. */
const WRITE_GRACE_MS = 5_000;

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // ESRCH: gone; EPERM: it runs under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of the lock file (its pid, or null while the pid is being written), or undefined when the lock is stale or gone. */
async function liveHolder(path: string, options: PidLockOptions): Promise<{ pid: number | null } | undefined> {
  let text: string;
  let ageMs: number;
  try {
    [text, ageMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((stats) => Date.now() - stats.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return ageMs < WRITE_GRACE_MS ? { pid: null } : undefined;
  if (options.maxAgeMs !== undefined && ageMs >= options.maxAgeMs) return undefined;
  return processRuns(pid) ? { pid } : undefined;
}

/** One try at the lock file `path`: taken (with its release), or the pid of the live process holding it. */
export async function tryTakePidLock(path: string, options: PidLockOptions = {}): Promise<PidLockAttempt> {
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return { taken: true, release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await liveHolder(path, options);
    if (holder) return { taken: false, holderPid: holder.pid };
    await rm(path, { force: true });
  }
}

/** Waits for the lock file `path` (checking every `pollMs`), runs `work` holding it, then releases it. */
export async function withPidLock<T>(path: string, work: () => Promise<T>, options: PidLockOptions & { pollMs?: number } = {}): Promise<T> {
  for (;;) {
    const attempt = await tryTakePidLock(path, options);
    if (attempt.taken) {
      try {
        return await work();
      } finally {
        await attempt.release();
      }
    }
    await sleep(options.pollMs ?? 500);
  }
}
