import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedHandPhoto, handPhotoPath } from '../../scripts/fixtures/hand-photo';
import { type AvatarE2e, openApp, send, startAvatarE2e } from '../support/avatar-e2e';
import { fakeCameraArgs, fakeCameraMissingReason, type HandScene, makeHandCameraClip } from '../support/fake-camera';
import { chromiumMissingReason } from '../support/serve-process';

/**
 * Hands in front of the camera (Chromium's fake camera, the real perception worker and models,
 * the scripted engine): a raised open palm held up during a reply stops it; a palm waving at the
 * silent avatar is answered with one greeting, and waving on during a reply does not stop it. The
 * clips are made here with ffmpeg from @vladmandic/human's sample photo (the face) and a real hand
 * photo from the npm package fingerpose (`npm run fixtures` fetches it; without it these skip).
 */

const handPhoto = cachedHandPhoto();
const missing =
  chromiumMissingReason() ??
  fakeCameraMissingReason() ??
  (handPhoto ? null : `the hand photo is not at ${handPhotoPath()} (npm run fixtures fetches it from the npm registry)`);

/** Model load plus a few frames with the hand models on a loaded 2-core machine. */
const VISION_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 420_000;

/** A reply long enough (over a minute of speech) for several frames to be analysed while it plays, even at seconds a frame. */
const LONG_REPLY =
  'Let me tell you a long story about the sea. ' +
  'The waves roll in from far away, one after another, and the wind carries the salt across the sand. ' +
  'Fishermen go out before dawn and come back when the sun is high, their nets heavy with silver fish. ' +
  'Children run along the shore and build castles that the tide takes back every evening. ' +
  'The lighthouse keeper climbs his stairs each night and lights the lamp for the ships passing by. ' +
  'In winter the storms come, and the old harbour walls hold against the grey water as they have for centuries. ' +
  'In spring the birds return and nest on the cliffs above the beach, calling to each other all day long. ' +
  'Summer brings visitors from the cities, who sit under bright umbrellas and watch the boats drift past the point. ' +
  'In autumn the light turns golden, the visitors leave, and the village grows quiet again until the next year. ' +
  'The old fisherman at the end of the pier has seen sixty summers come and go, and he still tells the same stories. ' +
  'He says the sea remembers everyone who ever sailed on it, and that on calm nights you can hear it singing their names.';

type Vision = NonNullable<Window['avatarDiagnostics']>['vision'];

async function vision(page: Page): Promise<Vision> {
  return page.evaluate(() => window.avatarDiagnostics!.vision);
}

/** Waits for `predicate(arg)` in the page (a self-contained function: the page's CSP forbids eval). */
async function waitFor(page: Page, what: string, predicate: (arg: number) => boolean, arg = 0, timeoutMs = VISION_TIMEOUT_MS): Promise<void> {
  try {
    await page.waitForFunction(predicate, arg, { timeout: timeoutMs, polling: 100 });
  } catch (error) {
    const snapshot = await page.evaluate(() => ({ state: window.avatarDiagnostics?.state, vision: window.avatarDiagnostics?.vision })).catch(() => null);
    throw new Error(`Timed out waiting for ${what}; ${JSON.stringify(snapshot)}`, { cause: error });
  }
}

/** The conversation as kept (Export JSON): each reply as far as it was heard. */
async function keptConversation(page: Page): Promise<{ role: string; text: string }[]> {
  const downloading = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const download = await downloading;
  return (JSON.parse(readFileSync((await download.path())!, 'utf8')) as { messages: { role: string; text: string }[] }).messages;
}

/** Starts the host and a browser whose fake camera plays `scenes`. */
function cameraSetup(scenes: readonly { scene: HandScene; seconds: number }[]): { e2e: () => AvatarE2e } {
  let e2e: AvatarE2e;
  let dir: string;
  beforeAll(async () => {
    if (missing) return;
    dir = mkdtempSync(join(tmpdir(), 'vision-hand-e2e-'));
    const clip = join(dir, 'camera.y4m');
    makeHandCameraClip(clip, handPhoto!, scenes);
    e2e = await startAvatarE2e({ browserArgs: fakeCameraArgs(clip) });
  });
  afterAll(async () => {
    await e2e?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { e2e: () => e2e };
}

async function cameraOn(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Camera off' }).click();
  await waitFor(page, 'a face in vision.state', () => window.avatarDiagnostics?.vision.present === true);
}

describe.skipIf(missing !== null)(`a raised open palm stops the reply (Chromium fake camera)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  const setup = cameraSetup([{ scene: 'palm', seconds: 60 }]);

  it('a palm held up while the avatar is silent does nothing; held up during a reply, it stops it and the conversation keeps what was heard', async () => {
    const { page, pageErrors } = await openApp(setup.e2e());
    await cameraOn(page);
    await waitFor(page, 'the raised open palm seen', () => window.avatarDiagnostics!.vision.gestures.includes('open-palm'));
    // Silent: nothing to stop, and a still palm is no wave.
    const frames = (await vision(page)).framesProcessed;
    await waitFor(page, 'two more frames', (from) => window.avatarDiagnostics!.vision.framesProcessed >= from + 2, frames, 30_000);
    expect(await vision(page)).toMatchObject({ palmStops: 0, waves: 0, greetingTurns: 0 });
    expect(await page.evaluate(() => window.avatarDiagnostics!.state)).toBe('idle');

    // Twice the long reply: minutes of speech, for a loop that takes several seconds a frame on a busy machine.
    await send(page, `say: ${LONG_REPLY} ${LONG_REPLY}`);
    await waitFor(page, 'the reply spoken', () => window.avatarDiagnostics!.state === 'speaking', 0, 60_000);
    const speakingFrom = { frames: (await vision(page)).framesProcessed, atMs: Date.now() };
    try {
      await waitFor(page, 'the palm stopping the reply', () => window.avatarDiagnostics!.vision.palmStops === 1, 0, 240_000);
    } catch (error) {
      const frames = (await vision(page)).framesProcessed - speakingFrom.frames;
      throw new Error(`${frames} frames analysed in the ${Math.round((Date.now() - speakingFrom.atMs) / 1000)} s after the reply began`, { cause: error });
    }
    await waitFor(page, 'the avatar silent', () => window.avatarDiagnostics!.state === 'idle', 0, 20_000);

    const kept = await keptConversation(page);
    const reply = kept.filter((message) => message.role === 'avatar').at(-1)!;
    expect(reply.text.length).toBeGreaterThan(0);
    expect(reply.text.length).toBeLessThan(2 * LONG_REPLY.length);
    expect(reply.text.slice(0, 20)).toBe(LONG_REPLY.slice(0, 20));
    expect(pageErrors).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe.skipIf(missing !== null)(`a wave is answered (Chromium fake camera)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  // The face alone, then a long wave (the clip outlasts the test: it never loops back to a second wave).
  const setup = cameraSetup([
    { scene: 'face', seconds: 4 },
    { scene: 'wave', seconds: 120 },
  ]);

  it('a wave at the silent avatar gets exactly one greeting; waving on during a reply does not stop it', async () => {
    const { page, pageErrors } = await openApp(setup.e2e());
    await cameraOn(page);
    await waitFor(page, 'a wave recognised', () => window.avatarDiagnostics!.vision.waves >= 1);
    await waitFor(page, 'the wave greeting spoken', () => window.avatarDiagnostics!.transcript.some((entry) => entry.text === 'Hi! I see you waving.'), 0, 30_000);
    await waitFor(page, 'the avatar silent', () => window.avatarDiagnostics!.state === 'idle', 0, 30_000);

    // Waving on: the same wave, no second greeting.
    const frames = (await vision(page)).framesProcessed;
    await waitFor(page, 'four more frames', (from) => window.avatarDiagnostics!.vision.framesProcessed >= from + 4, frames, 60_000);
    const greetings = await page.evaluate(() => window.avatarDiagnostics!.transcript.filter((entry) => entry.text === 'Hi! I see you waving.').length);
    expect(greetings).toBe(1);
    expect(await vision(page)).toMatchObject({ waves: 1, greetingTurns: 1 });

    // During a reply a wave is no interruption.
    await send(page, `say: ${LONG_REPLY}`);
    await waitFor(page, 'the reply spoken', () => window.avatarDiagnostics!.state === 'speaking', 0, 60_000);
    const during = (await vision(page)).framesProcessed;
    await waitFor(
      page,
      'three frames during the reply',
      (from) => window.avatarDiagnostics!.vision.framesProcessed >= from + 3 || window.avatarDiagnostics!.state !== 'speaking',
      during,
      90_000,
    );
    expect(await page.evaluate(() => window.avatarDiagnostics!.state)).toBe('speaking');
    expect((await vision(page)).palmStops).toBe(0);
    expect((await vision(page)).handX).not.toBeNull();
    expect(pageErrors).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
