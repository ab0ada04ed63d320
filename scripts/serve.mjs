import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

/** `npm run serve -- [--port <n>] [--lan]`: build when needed, then host the engine headless. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
buildIfStale(root);
const child = spawn(process.execPath, [join(root, 'out/main/serve.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
