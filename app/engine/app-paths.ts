import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the app's files are, whether running from source (tsx/vitest: `.ts` files under app/) or
 * from the electron-vite build (`out/main/*.js`). Entry points of processes and worker threads are
 * resolved here so the engine never guesses paths.
 */

const here = fileURLToPath(import.meta.url);

/** True when running the TypeScript sources directly (tests, benches, CLI). */
export const runningFromSource = here.endsWith('.ts');

function findRoot(start: string): string {
  let dir = dirname(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${start}`);
    dir = parent;
  }
}

/** The project (or packaged app) root: the folder holding package.json. */
export const appRoot = findRoot(here);

/** Node flags a child process or worker needs to run a source entry (`.ts`) directly. */
export const sourceExecArgv: string[] = runningFromSource ? ['--import', 'tsx'] : [];

/**
 * Path of a process or worker entry by its build name, e.g. `runtime-host` or `scripted.worker`.
 * `sourcePath` is the entry's source file relative to the root (used when running from source).
 */
export function entryPath(buildName: string, sourcePath: string): string {
  return runningFromSource ? join(appRoot, sourcePath) : join(appRoot, 'out', 'main', `${buildName}.js`);
}

/** Built renderer (index.html and assets) served by `serve` and loaded by Electron. */
export const rendererDir = join(appRoot, 'out', 'renderer');
