import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** The `serve` host as a child process and headless Chromium, for e2e tests and browser benches. */

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

/** The system Chromium where there is one; otherwise playwright-core's own download, if any. */
export const CHROMIUM_PATH = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;

function bundledChromiumExists(): boolean {
  try {
    return existsSync(chromium.executablePath());
  } catch {
    return false;
  }
}

/** Why Chromium tests cannot run on this machine, or null when they can (for `describe.skipIf`). */
export function chromiumMissingReason(): string | null {
  return CHROMIUM_PATH || bundledChromiumExists() ? null : 'no Chromium for playwright-core';
}

/** Headless Chromium with CHROMIUM_ARGS plus `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Chromium flags for a fake microphone that loops `wavPath` and is granted without asking. */
export function fakeMicrophoneArgs(wavPath: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wavPath}`];
}

export interface ServeProcess {
  child: ChildProcess;
  url: URL;
  /** Everything the host printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const APP_ADDRESS = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m;

/**
 * Starts `npm run serve -- --port 0 --profile <profile> [extraArgs]` and resolves once it printed its
 * address and, for hosts that print more (the share's addresses), once `ready(output)` holds too;
 * `options.env` replaces the environment it inherits (the soak adds NODE_OPTIONS=--inspect);
 * `options.prefix` runs it under another command that execs it (e.g. `unshare -m …`).
 */
export function startServeProcess(
  profile: string,
  extraArgs: readonly string[] = [],
  ready: (output: string) => boolean = () => true,
  options: { env?: NodeJS.ProcessEnv; prefix?: readonly string[] } = {},
): Promise<ServeProcess> {
  // A data folder of its own (settings, kept conversations) unless the test chose one: hosts never share the user's.
  const dataDir = extraArgs.includes('--data-dir') || process.env.AVATAR_DATA_DIR ? undefined : mkdtempSync(join(tmpdir(), 'avatar-serve-data-'));
  const ownDataDir = dataDir ? ['--data-dir', dataDir] : [];
  const command = [...(options.prefix ?? []), process.execPath, join(root, 'scripts', 'serve.mjs'), '--port', '0', '--profile', profile, ...ownDataDir, ...extraArgs];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let output = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = APP_ADDRESS.exec(output);
      if (match && ready(output)) resolve({ child, url: new URL(match[1]!), output: () => output, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its address:\n${output}`)));
  });
}

/** HTTP status of a WebSocket upgrade to `path` on the host at `url` (101 when it upgrades). */
export function upgradeStatus(url: URL, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}
