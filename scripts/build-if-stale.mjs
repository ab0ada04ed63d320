import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Rebuilds with electron-vite when any source is newer than the build (or the build is missing). */

function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function buildIfStale(root) {
  const outputs = ['out/main/serve.js', 'out/main/electron-main.js', 'out/preload/preload.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
  const builtAt = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
  const sources = Math.max(newestMtimeMs(join(root, 'app')), statSync(join(root, 'electron.vite.config.ts')).mtimeMs);
  if (builtAt > sources) return;
  console.log(builtAt === 0 ? 'Building the app (first run)…' : 'Sources changed: rebuilding…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    console.error('The build failed (see above); run `npm run build` for details.');
    process.exit(result.status ?? 1);
  }
}
