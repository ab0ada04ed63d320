import { spawn } from 'node:child_process';
import { AppError, ErrorCode } from '../../shared/errors.contract';

/** One line on why PyPI could not serve a package (registry unreachable, or another pip error). */
function pipFailureLine(spec: string, stderr: string, exitCode: number | null): string {
  const unreachable =
    /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|ConnectTimeout|ReadTimeout|ProxyError|Network is unreachable|No route to host|SSLError/i.test(
      stderr,
    );
  const lastError = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('ERROR:'))
    .pop();
  if (unreachable) return `PyPI is unreachable: pip download ${spec} failed (${lastError ?? `exit ${exitCode}`})`;
  return `pip download ${spec} failed: ${lastError ?? `exit code ${exitCode}`}`;
}

/**
 * `pip download` of one pinned wheel (`name==version`, no dependencies, binary only) into `dest`.
 * Throws AppError `model_missing` (recoverable) with one line on why pip failed.
 */
export async function pipDownload(python: string, spec: string, dest: string): Promise<void> {
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input'];
  args.push('--retries', '1', '--timeout', '20', '--dest', dest, spec);
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    let err = '';
    const child = spawn(python, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-20_000);
    });
    child.on('error', (error) => resolve({ code: null, stderr: `ERROR: cannot run ${python}: ${error.message}` }));
    child.on('close', (exitCode) => resolve({ code: exitCode, stderr: err }));
  });
  if (code !== 0) throw new AppError(ErrorCode.ModelMissing, pipFailureLine(spec, stderr, code), true);
}
