import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeCameraArgs, fakeCameraMissingReason, makeFakeCameraClip } from '../support/fake-camera';
import { chromiumMissingReason } from '../support/serve-process';
import { launchShareBrowser, openViewer, startShareServe, waitForTalkReady, waitForViewerState, type ShareServe } from '../support/share-session';

/**
 * A remote talker's camera (opt-in): `serve --remote-talk --renderer-pool 1`; the talker's browser
 * has Chromium's fake camera (a face, made with ffmpeg from @vladmandic/human's sample photo). The
 * camera stays off until the talker presses its button; then its video goes on the same peer
 * connection and the pooled renderer's perception loop reports a face back (`remote.vision`);
 * pressed again, the renderer stops looking.
 */

const missing = chromiumMissingReason() ?? fakeCameraMissingReason();

let serve: ShareServe;
let talkUrl: URL;
let browser: Browser;
let dir = '';

const waitFor = (page: Page, what: string, predicate: () => boolean, timeoutMs: number): Promise<void> => waitForViewerState(page, serve, what, predicate, timeoutMs);

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'remote-camera-e2e-'));
  const clip = join(dir, 'camera.y4m');
  makeFakeCameraClip(clip, [{ scene: 'face-left', seconds: 20 }]);
  serve = await startShareServe('scripted', ['--remote-talk', '--renderer-pool', '1']);
  talkUrl = await waitForTalkReady(serve);
  browser = await launchShareBrowser(fakeCameraArgs(clip));
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(`remote talk: the talker's camera (opt-in)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('sends nothing until the talker turns the camera on; then the avatar sees a face; off again, it stops looking', async () => {
    const talker = await openViewer(browser, { viewUrl: talkUrl });
    await waitFor(talker, 'the avatar stream at the talker', () => window.avatarViewerStatus?.state === 'playing', 60_000);
    const button = talker.getByRole('button', { name: 'Camera off' });
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    await talker.waitForTimeout(2000);
    expect(await talker.evaluate(() => window.avatarTalkStatus!)).toMatchObject({ camera: 'off', seen: { watching: false, present: false } });

    await button.click();
    await waitFor(talker, 'the camera on', () => window.avatarTalkStatus?.camera === 'on', 20_000);
    await waitFor(talker, 'the avatar seeing a face', () => window.avatarTalkStatus?.seen.present === true, 180_000);
    expect((await talker.evaluate(() => window.avatarTalkStatus!)).seen).toMatchObject({ watching: true, faces: 1 });

    await talker.getByRole('button', { name: /^Camera on/ }).click();
    await waitFor(talker, 'the avatar no longer looking', () => window.avatarTalkStatus?.camera === 'off' && window.avatarTalkStatus.seen.watching === false, 30_000);
    await talker.close();
  }, 300_000);
});
