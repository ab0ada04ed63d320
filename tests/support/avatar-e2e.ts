import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { TEST_HOOKS_PARAM } from '../../app/renderer/state/test-hooks';
import { launchChromium, startServeProcess, type ServeProcess } from './serve-process';

/** Shared set-up of the avatar e2e tests: the scripted `serve` host, headless Chromium, the app page. */

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = join(root, 'test-results', 'screenshots');

export interface AvatarE2e {
  serve: ServeProcess;
  browser: Browser;
  close(): Promise<void>;
}

/** The `serve` host (scripted profile unless told) and headless Chromium (with `browserArgs`, e.g. a fake microphone). */
export async function startAvatarE2e(options: { profile?: string; browserArgs?: string[] } = {}): Promise<AvatarE2e> {
  mkdirSync(screenshotDir, { recursive: true });
  const serve = await startServeProcess(options.profile ?? 'scripted');
  const browser = await launchChromium(options.browserArgs);
  return {
    serve,
    browser,
    async close() {
      await browser.close();
      await serve.stop();
    },
  };
}

/**
 * Waits for a condition on `window.avatarDiagnostics` (a self-contained page function: the page's
 * CSP forbids eval); on timeout the error shows the last snapshot and the host's output.
 */
export async function waitForDiagnostics(
  e2e: AvatarE2e,
  page: Page,
  what: string,
  predicate: () => boolean,
  timeoutMs = 60_000,
  // 'raf' checks every drawn frame, for a state that may last only a frame or two.
  polling: number | 'raf' = 50,
): Promise<void> {
  try {
    await page.waitForFunction(predicate, null, { timeout: timeoutMs, polling });
  } catch (error) {
    const snapshot = await page.evaluate(() => JSON.stringify(window.avatarDiagnostics)).catch(() => 'unavailable');
    throw new Error(`Timed out waiting for ${what}; diagnostics: ${snapshot}\nserve output:\n${e2e.serve.output().slice(-2000)}`, { cause: error });
  }
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** Runs on the new page before it loads (listeners, init scripts); a returned promise is awaited. */
  beforeLoad?: (page: Page) => unknown;
}

/** The app's address on this host with extra query parameters (e.g. `background=chroma&mic=1`). */
export function appHref(e2e: AvatarE2e, query = ''): string {
  const url = new URL(e2e.serve.url);
  // Each test's page starts its own conversation, not the one an earlier page of this host left.
  url.searchParams.set('conversation', 'none');
  for (const [key, value] of new URLSearchParams(query)) url.searchParams.set(key, value);
  return url.href;
}

/** A new page at `href`, collecting its uncaught errors; waits for nothing. */
export async function openPage(e2e: AvatarE2e, href: string, options: PageOptions = {}): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await e2e.browser.newPage({ viewport: options.viewport ?? { width: 980, height: 640 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await options.beforeLoad?.(page);
  await page.goto(href);
  return { page, pageErrors };
}

/** Opens the app with its test hooks (optionally with a query such as `background=chroma`) and waits for a warm session. */
export async function openApp(e2e: AvatarE2e, options: PageOptions & { query?: string } = {}): Promise<{ page: Page; pageErrors: string[] }> {
  const query = new URLSearchParams(options.query);
  query.set(TEST_HOOKS_PARAM, '1');
  const { page, pageErrors } = await openPage(e2e, appHref(e2e, query.toString()), options);
  await waitForDiagnostics(
    e2e,
    page,
    'a warm session',
    () => !!window.avatarDiagnostics?.sessionId && window.avatarDiagnostics.engineReady && window.avatarDiagnostics.frame > 2,
    120_000,
  );
  return { page, pageErrors };
}

/** Types a message and sends it (the scripted LLM answers "say: …" with exactly the rest). */
export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
}

/** Waits until the reply has been spoken to its end and the avatar is idle again. */
export async function waitForReplyEnd(e2e: AvatarE2e, page: Page, replies: number): Promise<void> {
  await page.evaluate((count) => ((window as unknown as { expectedReplies: number }).expectedReplies = count), replies);
  await waitForDiagnostics(
    e2e,
    page,
    `the end of reply ${replies}`,
    () =>
      window.avatarDiagnostics?.state === 'idle' &&
      window.avatarDiagnostics.transcript.filter((entry) => entry.role === 'avatar').length >= (window as unknown as { expectedReplies: number }).expectedReplies,
    120_000,
  );
}
