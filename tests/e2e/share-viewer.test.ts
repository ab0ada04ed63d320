import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeStatus } from '../support/serve-process';
import { countViewerFrames, launchShareBrowser, loudestReceivedAudio, meterReceivedAudio, openSharingApp, openViewer, startShareServe, type ShareServe } from '../support/share-session';
import { audioHoldMs } from '../../app/renderer/share/capture-delay';

/**
 * The avatar share end to end in real Chromium: the app page shares at launch (`&share=1`), a
 * viewer page (`/view?token=<view token>`) receives the avatar's video at the preset size and the
 * avatar's spoken reply, refuses wrong tokens, and heals when the sharing page restarts.
 */

let serve: ShareServe;
let browser: Browser;

beforeAll(async () => {
  serve = await startShareServe('scripted');
  browser = await launchShareBrowser();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

async function waitPlaying(viewer: Page, minStreams: number): Promise<void> {
  try {
    await viewer.waitForFunction(
      (streams) => window.avatarViewerStatus?.state === 'playing' && window.avatarViewerStatus.streams >= streams && document.querySelector('video')!.videoWidth > 0,
      minStreams,
      { timeout: 20_000 },
    );
  } catch (error) {
    const status = await viewer.evaluate(() => JSON.stringify(window.avatarViewerStatus)).catch(() => 'unavailable');
    throw new Error(`The viewer did not play (status ${status}); serve output:\n${serve.output().slice(-1500)}`, { cause: error });
  }
}

async function whepStatus(authorization: string | undefined): Promise<number> {
  const response = await fetch(serve.whepUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(authorization ? { Authorization: authorization } : {}) },
    body: 'v=0\r\n',
  });
  await response.text();
  return response.status;
}

describe('avatar share (serve host + two Chromium pages)', () => {
  it('refuses a wrong or missing token on /signal and /whep; the view token watches but cannot share or drive the engine', async () => {
    const app = encodeURIComponent(serve.appToken);
    const view = encodeURIComponent(serve.viewToken);
    expect(await upgradeStatus(serve.url, '/signal?role=viewer')).toBe(401);
    expect(await upgradeStatus(serve.url, '/signal?role=viewer&token=not-the-token')).toBe(401);
    expect(await upgradeStatus(serve.url, '/signal?role=sender&token=not-the-token')).toBe(401);
    expect(await upgradeStatus(serve.url, `/signal?role=sender&token=${view}`)).toBe(401);
    expect(await upgradeStatus(serve.url, `/ws?token=${view}`)).toBe(401);
    expect(await upgradeStatus(serve.url, `/signal?role=somebody&token=${app}`)).toBe(400);
    expect(await upgradeStatus(serve.url, `/signal?role=viewer&token=${view}`)).toBe(101);
    expect(await upgradeStatus(serve.url, `/signal?role=viewer&token=${app}`)).toBe(101);

    expect(await whepStatus(undefined)).toBe(401);
    expect(await whepStatus('Bearer not-the-token')).toBe(401);
    // A valid token with nobody sharing: 503, try again later.
    expect(await whepStatus(`Bearer ${serve.viewToken}`)).toBe(503);
  });

  it('plays the shared avatar at 1280x720 with the reply audio, and rejoins when the sharing page restarts', async () => {
    const app = await openSharingApp(browser, serve);
    const pageErrors: string[] = [];
    app.on('pageerror', (error) => pageErrors.push(error.message));
    const viewer = await openViewer(browser, serve);
    viewer.on('pageerror', (error) => pageErrors.push(error.message));
    await waitPlaying(viewer, 1);

    // Video: frames keep arriving (software WebGL on a shared machine renders a few per second), at
    // the preset's size (the compositor draws 1280x720 whatever the window).
    const video = await countViewerFrames(viewer, 2500);
    expect(video.frames).toBeGreaterThanOrEqual(2);
    expect([video.width, video.height]).toEqual([1280, 720]);
    await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.viewers)).toBe(1);
    await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.connectedPeers)).toBe(1);
    // The sender measures its frames' draw → encoder delay (software GL: tens of ms at least) and
    // holds the shared voice by it less the audio path's own lead (in 15 ms steps), within the cap.
    await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.videoCaptureDelayMs), { timeout: 15_000 }).toBeGreaterThan(15);
    const hold = await app.evaluate(() => window.avatarShareStatus!);
    expect(Math.abs(hold.audioHoldMs - audioHoldMs(hold.videoCaptureDelayMs))).toBeLessThan(15);
    expect(hold.audioHoldMs).toBeLessThanOrEqual(1000);

    // Audio: measure the received track's level at the viewer, quiet before the reply, loud while the avatar speaks.
    await meterReceivedAudio(viewer);
    await viewer.waitForTimeout(600);
    const quiet = await loudestReceivedAudio(viewer);
    await app.waitForFunction(() => window.avatarDiagnostics?.engineReady === true, null, { timeout: 60_000 });
    const input = app.getByLabel('Message');
    await input.fill('Hello avatar, please say something.');
    await input.press('Enter');
    await app.waitForFunction(() => window.avatarDiagnostics?.state === 'speaking', null, { timeout: 30_000 });
    await expect
      .poll(() => loudestReceivedAudio(viewer, 1000), { timeout: 15_000 })
      .toBeGreaterThan(0.01);
    expect(quiet).toBeLessThan(0.003);

    // The sharing page restarts: the viewer waits, then plays the new stream by itself.
    await app.reload();
    await app.waitForFunction(() => window.avatarShareStatus?.signaling === true, null, { timeout: 30_000 });
    await waitPlaying(viewer, 2);
    const again = await countViewerFrames(viewer, 2500);
    expect(again.frames).toBeGreaterThanOrEqual(2);
    expect(pageErrors).toEqual([]);
    await app.close();
    await viewer.close();
  });
});
