import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `serve` host as a child process and headless Chromium flags, for e2e tests and browser benches. */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Headless Chromium with SwiftShader WebGL, autoplay, and none of its own network traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface ServeProcess {
  child: ChildProcess;
  url: URL;
  /** Everything the host printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `npm run serve -- --port 0 --profile <profile>` and resolves once it prints its address. */
export function startServeProcess(profile: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs'), '--port', '0', '--profile', profile], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(output);
      if (match) resolve({ child, url: new URL(match[1]!), output: () => output, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its address:\n${output}`)));
  });
}
