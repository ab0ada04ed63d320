import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start`: runs the built app in Electron. `npm install` does not run Electron's own download
 * script (package.json `allowScripts`), so an install never fails where the binary cannot be
 * fetched; the first start fetches it instead, and where that is impossible says in one sentence
 * what is missing and what to run.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

let binary = electronBinary();
if (!binary && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log('Fetching the Electron binary (once)…');
  const installer = join(dirname(require.resolve('electron/package.json')), 'install.js');
  spawnSync(process.execPath, [installer], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000 });
  delete require.cache[require.resolve('electron')];
  binary = electronBinary();
}
if (!binary) {
  console.error(
    'The Electron binary is not installed and could not be downloaded on this machine, so the desktop window cannot open: run `npm run serve` and open the printed address in Chromium instead.',
  );
  process.exit(1);
}
const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
