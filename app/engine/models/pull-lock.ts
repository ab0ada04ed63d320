import { AppError, ErrorCode } from '../../shared/errors.contract';
import { tryTakePidLock } from '../files/pid-lock-file';

/**
 * Takes the lock file that keeps two pulls (in this or another process) from writing the same
 * part file; a lock left by a process that no longer runs is taken over. Returns the release.
 */
export async function takePullLock(lockPath: string, what: string): Promise<() => Promise<void>> {
  const attempt = await tryTakePidLock(lockPath);
  if (attempt.taken) return attempt.release;
  const who = attempt.holderPid === process.pid ? 'this app' : `another process${attempt.holderPid === null ? '' : ` (pid ${attempt.holderPid})`}`;
  throw new AppError(ErrorCode.Internal, `${what} is already being downloaded by ${who}.`, true);
}
