import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** A `serve` host plus headless Chromium (SwiftShader WebGL), for the browser benchmarks. */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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

export interface BrowserSession {
  url: URL;
  browser: Browser;
  close(): Promise<void>;
}

export async function startBrowserSession(profile = 'scripted', extraArgs: string[] = []): Promise<BrowserSession> {
  const serve: ChildProcess = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs'), '--port', '0', '--profile', profile], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(output);
      if (match) resolve(new URL(match[1]!));
    };
    serve.stdout!.on('data', onData);
    serve.stderr!.on('data', onData);
    serve.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${output}`)));
  });
  const browser = await chromium.launch({
    executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    },
  };
}

/** Opens the app, waits for the engine, and sends a typed message (the reply is spoken). */
export async function openAndAsk(session: BrowserSession, text: string, viewport = { width: 1280, height: 720 }): Promise<Page> {
  const page = await session.browser.newPage({ viewport });
  // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  await page.goto(session.url.href);
  await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { engineReady?: boolean } }).avatarDiagnostics?.engineReady === true, null, {
    timeout: 60_000,
  });
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
  return page;
}

export interface FrameSample {
  atMs: number;
  state: string;
  avOffsetMs: number | null;
}

/** Samples the diagnostics on every animation frame for `durationMs`. */
export function sampleFrames(page: Page, durationMs: number): Promise<FrameSample[]> {
  return page.evaluate(
    (ms) =>
      new Promise<FrameSample[]>((resolve) => {
        const samples: FrameSample[] = [];
        const end = performance.now() + ms;
        const tick = (now: number): void => {
          const diagnostics = (window as unknown as { avatarDiagnostics?: { state: string; avOffsetMs: number | null } }).avatarDiagnostics;
          samples.push({ atMs: now, state: diagnostics?.state ?? 'unknown', avOffsetMs: diagnostics?.avOffsetMs ?? null });
          if (now < end) requestAnimationFrame(tick);
          else resolve(samples);
        };
        requestAnimationFrame(tick);
      }),
    durationMs,
  );
}
