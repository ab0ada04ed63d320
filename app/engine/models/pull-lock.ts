import { open, readFile, rm } from 'node:fs/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file that keeps two pulls (in this or another process) from writing the same
 * part file; a lock left by a process that no longer runs is taken over. Returns the release.
 */
export async function takePullLock(lockPath: string, what: string): Promise<() => Promise<void>> {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
      const who = owner === process.pid ? 'this app' : `another process (pid ${owner})`;
      throw new AppError(ErrorCode.Internal, `${what} is already being downloaded by ${who}.`, true);
    }
    await rm(lockPath, { force: true });
  }
  throw new AppError(ErrorCode.Internal, `Cannot take the download lock ${lockPath}.`, true);
}
