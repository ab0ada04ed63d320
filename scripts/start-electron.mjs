import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `npm start`: runs the built app in Electron, or explains in one sentence why it cannot. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let electronBinary;
try {
  electronBinary = require('electron');
} catch {
  electronBinary = undefined;
}
if (typeof electronBinary !== 'string' || !existsSync(electronBinary)) {
  console.error(
    'The Electron binary is not installed on this machine (it was skipped or could not be downloaded), so the desktop window cannot open: run `npm run serve` and open the printed address in Chromium instead.',
  );
  process.exit(1);
}
const child = spawn(electronBinary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
