import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tryTakePidLock, withPidLock } from '../../app/engine/files/pid-lock-file';

const dir = mkdtempSync(join(tmpdir(), 'pid-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

function aged(path: string, ageMs: number): void {
  const at = new Date(Date.now() - ageMs);
  utimesSync(path, at, at);
}

describe('pid lock files', () => {
  it('takes a free lock with this pid in it, reports this pid as the holder, and releases it', async () => {
    const path = join(dir, 'free.lock');
    const first = await tryTakePidLock(path);
    expect(first.taken).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    expect(await tryTakePidLock(path)).toEqual({ taken: false, holderPid: process.pid });
    if (first.taken) await first.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose process no longer runs', async () => {
    const path = join(dir, 'dead.lock');
    writeFileSync(path, String(deadPid()));
    const attempt = await tryTakePidLock(path);
    expect(attempt.taken).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    if (attempt.taken) await attempt.release();
  });

  it('leaves a lock without a pid alone while it may be being written, and takes it over later', async () => {
    const path = join(dir, 'empty.lock');
    writeFileSync(path, '');
    expect(await tryTakePidLock(path)).toEqual({ taken: false, holderPid: null });
    aged(path, 60_000);
    const attempt = await tryTakePidLock(path);
    expect(attempt.taken).toBe(true);
    if (attempt.taken) await attempt.release();
  });

  it('takes over a live holder only past maxAgeMs (its pid may have been reused)', async () => {
    const path = join(dir, 'old.lock');
    writeFileSync(path, String(process.pid));
    aged(path, 60_000);
    expect(await tryTakePidLock(path)).toEqual({ taken: false, holderPid: process.pid });
    const attempt = await tryTakePidLock(path, { maxAgeMs: 30_000 });
    expect(attempt.taken).toBe(true);
    if (attempt.taken) await attempt.release();
  });

  it('withPidLock waits for the holder to release, then runs the work holding the lock', async () => {
    const path = join(dir, 'wait.lock');
    const held = await tryTakePidLock(path);
    if (!held.taken) throw new Error('lock not taken');
    const order: string[] = [];
    const waiting = withPidLock(path, async () => order.push(`work ${readFileSync(path, 'utf8')}`), { pollMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('released');
    await held.release();
    await waiting;
    expect(order).toEqual(['released', `work ${process.pid}`]);
    expect(existsSync(path)).toBe(false);
  });
});
