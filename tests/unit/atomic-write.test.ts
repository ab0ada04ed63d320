import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../app/engine/files/atomic-write';

const dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomically', () => {
  it('creates the folder, writes with the given mode, replaces the file whole and leaves no temporary file', async () => {
    const path = join(dir, 'nested', 'settings.json');
    await writeFileAtomically(path, 'first', { mode: 0o600 });
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomically(path, new Uint8Array([104, 105]), { sync: true });
    expect(readFileSync(path, 'utf8')).toBe('hi');
    expect(readdirSync(join(dir, 'nested'))).toEqual(['settings.json']);
  });

  it('leaves what was there and no temporary file when the rename fails', async () => {
    // A non-empty folder where the file should go: the rename fails.
    const target = join(dir, 'occupied');
    mkdirSync(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomically(target, 'data')).rejects.toThrow();
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
