import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The host's policy for escaped errors, in a child process (an escaped error must not reach vitest). */

const guard = join(__dirname, '..', '..', 'app', 'hosts', 'serve', 'process-guard.ts');

function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `
    import { installProcessGuard, markEngineCorrupt } from ${JSON.stringify(guard)};
    installProcessGuard({
      log: (line) => console.error('LOG ' + line.split('\\n')[0]),
      onFatal: (reason) => { console.log('FATAL ' + reason); process.exit(3); },
      stormLimit: 5,
    });
    ${body}
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('process guard', () => {
  it('logs an error that escaped a handler and a rejected promise, and keeps running', () => {
    const child = runChild(`
      setTimeout(() => { throw new Error('handler bug'); }, 0);
      void Promise.reject(new Error('forgotten rejection'));
      setTimeout(() => { console.log('still serving'); process.exit(0); }, 100);
    `);
    expect(child.stderr).toContain('LOG Unexpected error (the host keeps serving): Error: handler bug');
    expect(child.stderr).toContain('LOG Unhandled promise rejection (the host keeps serving): Error: forgotten rejection');
    expect(child.stdout).toContain('still serving');
    expect(child.status).toBe(0);
  });

  it('shuts down for an error that corrupts the engine', () => {
    const child = runChild(`
      setTimeout(() => { throw markEngineCorrupt(new Error('pool bookkeeping lost a worker')); }, 0);
      setTimeout(() => { console.log('still serving'); process.exit(0); }, 500);
    `);
    expect(child.stdout).toContain('FATAL the engine is in an inconsistent state: pool bookkeeping lost a worker');
    expect(child.stdout).not.toContain('still serving');
    expect(child.status).toBe(3);
  });

  it('treats an error storm as fatal', () => {
    const child = runChild(`
      for (let i = 0; i < 10; i++) setTimeout(() => { throw new Error('loop ' + i); }, 0);
      setTimeout(() => { console.log('still serving'); process.exit(0); }, 500);
    `);
    expect(child.stdout).toMatch(/FATAL 6 unexpected errors within 10 s/);
    expect(child.status).toBe(3);
  });
});
