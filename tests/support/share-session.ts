import type { Browser, Page } from 'playwright-core';
import { launchChromium, startServeProcess, type ServeProcess } from './serve-process';

/** A `serve` host with the share enabled, headless Chromium, and the pages of a share (tests and the `webrtc` bench). */

/**
 * Chromium hides host addresses behind mDNS names unless the page has camera/mic permission; two
 * headless pages on one machine then cannot reach each other. Real host candidates (no STUN is
 * configured, so only host candidates exist) keep the test on this machine's own interfaces.
 */
const SHARE_CHROMIUM_FLAGS = ['--disable-features=WebRtcHideLocalIpsWithMdns'];

export interface ShareServe extends ServeProcess {
  /** `/view?token=<view token>` as printed by the host. */
  viewUrl: URL;
  viewToken: string;
  appToken: string;
  whepUrl: URL;
}

const VIEW_ADDRESS = /(http:\/\/127\.0\.0\.1:\d+\/view\?token=\S+)/;
const WHEP_ADDRESS = /^WHEP.*?(http:\/\/\S+)\s+bearer token: (\S+)$/m;

/** `npm run serve -- --port 0 --profile <profile> [extra flags]`, resolved once it printed the app, viewer and WHEP lines. */
export async function startShareServe(profile: string, extraArgs: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}): Promise<ShareServe> {
  const serve = await startServeProcess(profile, extraArgs, (output) => VIEW_ADDRESS.test(output) && WHEP_ADDRESS.test(output), options);
  const viewUrl = new URL(VIEW_ADDRESS.exec(serve.output())![1]!);
  return {
    ...serve,
    viewUrl,
    viewToken: viewUrl.searchParams.get('token')!,
    appToken: serve.url.searchParams.get('token')!,
    whepUrl: new URL(WHEP_ADDRESS.exec(serve.output())![1]!),
  };
}

export function launchShareBrowser(extraArgs: string[] = []): Promise<Browser> {
  return launchChromium([...SHARE_CHROMIUM_FLAGS, ...extraArgs]);
}

async function openSharePage(browser: Browser, href: string, viewport: { width: number; height: number }, initScript = ''): Promise<Page> {
  const page = await browser.newPage({ viewport });
  // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
  await page.addInitScript({ content: `window.__name = (fn) => fn;${initScript}` });
  await page.goto(href);
  return page;
}

/** The app page sharing at launch (`&share=1` plus any extra query), once its signaling socket is open. */
export async function openSharingApp(browser: Browser, serve: ShareServe, query = '', viewport = { width: 980, height: 640 }): Promise<Page> {
  const page = await openSharePage(browser, `${serve.url.href}&share=1${query}`, viewport);
  await page.waitForFunction(() => window.avatarShareStatus?.signaling === true, null, { timeout: 60_000 });
  return page;
}

/** A viewer page (`/view?token=…`, or the talk address `…&talk=1` as `viewUrl`) plus any extra query, and a script run before the page's own. */
export function openViewer(browser: Browser, serve: Pick<ShareServe, 'viewUrl'>, query = '', initScript = ''): Promise<Page> {
  return openSharePage(browser, `${serve.viewUrl.href}${query}`, { width: 640, height: 360 }, initScript);
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

/** The RMS levels the viewer page measured of its received audio (the avatar's voice), one every 25 ms. */
interface AudioMeterWindow {
  receivedAudioLevels: number[];
}

/** Starts measuring the level of the audio the viewer page receives, with an AnalyserNode on the video's stream. */
export async function meterReceivedAudio(page: Page): Promise<void> {
  await page.evaluate(() => {
    const stream = document.querySelector('video')!.srcObject as MediaStream;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const levels: number[] = [];
    (window as unknown as AudioMeterWindow).receivedAudioLevels = levels;
    setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const value of samples) sum += value * value;
      levels.push(Math.sqrt(sum / samples.length));
    }, 25);
  });
}

/** The loudest level measured since meterReceivedAudio, or over the last `lastMs` only. */
export function loudestReceivedAudio(page: Page, lastMs?: number): Promise<number> {
  return page.evaluate((count) => Math.max(0, ...(window as unknown as AudioMeterWindow).receivedAudioLevels.slice(-count)), lastMs === undefined ? 0 : Math.ceil(lastMs / 25));
}

/** The talk address `serve --remote-talk` prints, once it also says its renderer pool is warm. */
export async function waitForTalkReady(serve: ShareServe, timeoutMs = 90_000): Promise<URL> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const talk = /^Remote talk \(.*?(http:\/\/\S+\/view\?token=\S+&talk=1)$/m.exec(serve.output());
    if (talk && /^Remote talk ready:/m.test(serve.output())) return new URL(talk[1]!);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`serve did not report a warm renderer pool:\n${serve.output().slice(-2000)}`);
}

/** Waits for `predicate` on a viewer or talker page; a timeout says what the page and serve last reported. */
export async function waitForViewerState(page: Page, serve: ShareServe, what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(predicate, null, { timeout: timeoutMs, polling: 200 });
  } catch (error) {
    const status = await page.evaluate(() => JSON.stringify({ viewer: window.avatarViewerStatus, talk: window.avatarTalkStatus })).catch(() => 'unavailable');
    throw new Error(`Timed out waiting for ${what}; page status ${status}\nserve output:\n${serve.output().slice(-2000)}`, { cause: error });
  }
}
