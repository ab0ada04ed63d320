import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, startServeProcess } from '../tests/support/serve-process';

/** A `serve` host plus headless Chromium (SwiftShader WebGL), for the browser benchmarks. */

export interface BrowserSession {
  url: URL;
  browser: Browser;
  close(): Promise<void>;
}

export async function startBrowserSession(profile = 'scripted', extraArgs: string[] = []): Promise<BrowserSession> {
  const serve = await startServeProcess(profile);
  const browser = await chromium.launch({
    executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  return {
    url: serve.url,
    browser,
    async close() {
      await browser.close();
      await serve.stop();
    },
  };
}

export interface OpenOptions {
  /** Extra query parameters for the app URL (e.g. `{ quality: 'full' }`). */
  query?: Record<string, string>;
  /** An avatar file to load through the picker before asking. */
  avatarPath?: string;
  /** A script run in the page before the app's own (instrumentation). */
  initScript?: string;
  /** Runs once the engine (and the avatar) is ready, before the message is sent. */
  beforeAsk?: (page: Page) => Promise<void>;
}

/** Opens the app, waits for the engine (and the avatar, if one is given), and sends a typed message (the reply is spoken). */
export async function openAndAsk(session: BrowserSession, text: string, viewport = { width: 1280, height: 720 }, options: OpenOptions = {}): Promise<Page> {
  const page = await session.browser.newPage({ viewport });
  // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  if (options.initScript) await page.addInitScript({ content: options.initScript });
  const url = new URL(session.url);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  await page.goto(url.href);
  await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { engineReady?: boolean } }).avatarDiagnostics?.engineReady === true, null, {
    timeout: 60_000,
  });
  if (options.avatarPath) {
    await page.getByLabel('Avatar file').setInputFiles(options.avatarPath);
    await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { avatar?: { kind: string } } }).avatarDiagnostics?.avatar?.kind !== 'default', null, {
      timeout: 60_000,
    });
  }
  await options.beforeAsk?.(page);
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
