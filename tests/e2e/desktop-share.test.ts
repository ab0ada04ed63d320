import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendererDir } from '../../app/engine/app-paths';
import { startDesktopShare, type DesktopShare } from '../../app/hosts/electron/desktop-share';
import { countViewerFrames, launchShareBrowser } from '../support/share-session';

/**
 * The desktop app's share path in real Chromium: the built renderer as a file:// page (as the
 * Electron window loads it) whose preload-shaped bridge answers `shareEndpoint()` with the desktop
 * share server's endpoint; it shares at launch and a viewer page from that server plays the avatar.
 * The Electron binary cannot run here, so the bridge carries no engine messages: this is the share.
 */

let share: DesktopShare;
let browser: Browser;

beforeAll(async () => {
  share = await startDesktopShare({ rendererDir });
  // Electron lets its file:// page load its module scripts; Chromium needs this switch for that.
  browser = await launchShareBrowser(['--allow-file-access-from-files']);
});

afterAll(async () => {
  await browser?.close();
  await share?.close();
});

describe('desktop share (file:// window + desktop share server + viewer page)', () => {
  it('shares through the endpoint from the bridge, and the viewer link plays the avatar at 1280x720', async () => {
    const pageErrors: string[] = [];
    const desktop = await browser.newPage({ viewport: { width: 980, height: 640 } });
    desktop.on('pageerror', (error) => pageErrors.push(error.message));
    await desktop.exposeFunction('desktopShareEndpointFromMain', () => share.endpoint);
    await desktop.addInitScript({
      content: `window.__name = (fn) => fn;
        window.avatarBridge = { send() {}, onMessage() { return () => {}; }, shareEndpoint: () => window.desktopShareEndpointFromMain() };`,
    });
    await desktop.goto(`${pathToFileURL(join(rendererDir, 'index.html')).href}?share=1`);
    await desktop.waitForFunction(() => window.avatarShareStatus?.signaling === true, null, { timeout: 60_000 });
    expect(await desktop.evaluate(() => window.avatarShareStatus!.viewUrl)).toBe(share.endpoint.viewUrl);

    const viewer = await browser.newPage({ viewport: { width: 640, height: 360 } });
    viewer.on('pageerror', (error) => pageErrors.push(error.message));
    await viewer.addInitScript({ content: 'window.__name = (fn) => fn;' });
    await viewer.goto(share.endpoint.viewUrl);
    await viewer.waitForFunction(() => window.avatarViewerStatus?.state === 'playing' && document.querySelector('video')!.videoWidth > 0, null, { timeout: 20_000 });
    const video = await countViewerFrames(viewer, 2500);
    expect(video.frames).toBeGreaterThanOrEqual(2);
    expect([video.width, video.height]).toEqual([1280, 720]);
    await expect.poll(() => desktop.evaluate(() => window.avatarShareStatus!.connectedPeers)).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
