import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, type ServeProcess } from './serve-process';

/** A `serve` host with the share enabled, headless Chromium, and the pages of a share (tests and the `webrtc` bench). */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Chromium hides host addresses behind mDNS names unless the page has camera/mic permission; two
 * headless pages on one machine then cannot reach each other. Real host candidates (no STUN is
 * configured, so only host candidates exist) keep the test on this machine's own interfaces.
 */
export const SHARE_CHROMIUM_ARGS = [...CHROMIUM_ARGS, '--disable-features=WebRtcHideLocalIpsWithMdns'];

export interface ShareServe extends ServeProcess {
  /** `/view?token=<view token>` as printed by the host. */
  viewUrl: URL;
  viewToken: string;
  appToken: string;
  whepUrl: URL;
}

/** `npm run serve -- --port 0 --profile <profile> [extra flags]`, resolved once it printed the app, viewer and WHEP lines. */
export function startShareServe(profile: string, extraArgs: string[] = []): Promise<ShareServe> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs'), '--port', '0', '--profile', profile, ...extraArgs], {
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
      const app = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(output);
      const view = /(http:\/\/127\.0\.0\.1:\d+\/view\?token=\S+)/.exec(output);
      const whep = /^WHEP.*?(http:\/\/\S+)\s+bearer token: (\S+)$/m.exec(output);
      if (!app || !view || !whep) return;
      const url = new URL(app[1]!);
      const viewUrl = new URL(view[1]!);
      resolve({
        child,
        url,
        viewUrl,
        viewToken: viewUrl.searchParams.get('token')!,
        appToken: url.searchParams.get('token')!,
        whepUrl: new URL(whep[1]!),
        output: () => output,
        stop,
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its addresses:\n${output}`)));
  });
}

export function launchShareBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
    headless: true,
    args: [...SHARE_CHROMIUM_ARGS, ...extraArgs],
  });
}

/** The app page sharing at launch (`&share=1` plus any extra query), once its signaling socket is open. */
export async function openSharingApp(browser: Browser, serve: ShareServe, query = '', viewport = { width: 980, height: 640 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  await page.goto(`${serve.url.href}&share=1${query}`);
  await page.waitForFunction(() => window.avatarShareStatus?.signaling === true, null, { timeout: 60_000 });
  return page;
}

/** The viewer page (`/view?token=…`), once it plays a stream. */
export async function openViewer(browser: Browser, serve: ShareServe, query = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  await page.goto(`${serve.viewUrl.href}${query}`);
  return page;
}

/** Video frames the viewer presents during `durationMs`, and the decoded size (requestVideoFrameCallback). */
export function countViewerFrames(page: Page, durationMs: number): Promise<{ frames: number; width: number; height: number }> {
  return page.evaluate(
    (ms) =>
      new Promise<{ frames: number; width: number; height: number }>((resolve) => {
        const video = document.querySelector('video')!;
        let frames = 0;
        let width = 0;
        let height = 0;
        const end = performance.now() + ms;
        const onFrame = (_now: number, metadata: VideoFrameCallbackMetadata): void => {
          frames += 1;
          width = metadata.width;
          height = metadata.height;
          if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
        setTimeout(() => resolve({ frames, width, height }), ms);
      }),
    durationMs,
  );
}
