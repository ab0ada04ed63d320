import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceSample } from '../../app/renderer/lipsync/lipsync-probe';
import { type AvatarE2e, openApp, screenshotDir, send, startAvatarE2e, waitForDiagnostics, waitForReplyEnd } from '../support/avatar-e2e';

/**
 * The avatar's states as a person sees them (Chromium, scripted engine): idle, thinking (the
 * scripted LLM holds its first token back on "think N ms:") and speaking look different in the
 * avatar region, and the diagnostics agree; while speaking with an emotion, blinks and the mouth
 * both keep moving.
 */

let e2e: AvatarE2e;
/** An empty page (no CSP) that decodes screenshots for pixel comparisons. */
let scratch: Page;

beforeAll(async () => {
  e2e = await startAvatarE2e();
  scratch = await e2e.browser.newPage();
});

afterAll(async () => {
  await e2e?.close();
});

type Region = { x: number; y: number; width: number; height: number };

/** Share of pixels in `region` whose colour differs clearly (sum of |ΔRGB| > 40) between two page screenshots. */
async function pixelDifference(a: Buffer, b: Buffer, region: Region): Promise<number> {
  return scratch.evaluate(
    async ([first, second, { x: left, y: top, width, height }]) => {
      const decode = async (base64: string): Promise<ImageData> => {
        const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
        const canvas = new OffscreenCanvas(Math.round(width), Math.round(height));
        const context = canvas.getContext('2d')!;
        context.drawImage(bitmap, -Math.round(left), -Math.round(top));
        return context.getImageData(0, 0, canvas.width, canvas.height);
      };
      const [x, y] = [await decode(first), await decode(second)];
      let differing = 0;
      for (let i = 0; i < x.data.length; i += 4) {
        if (Math.abs(x.data[i]! - y.data[i]!) + Math.abs(x.data[i + 1]! - y.data[i + 1]!) + Math.abs(x.data[i + 2]! - y.data[i + 2]!) > 40) differing += 1;
      }
      return differing / (x.width * x.height);
    },
    [a.toString('base64'), b.toString('base64'), region] as const,
  );
}

/** The avatar's region: the stage without its overlays' corners (head and shoulders). */
async function avatarRegion(page: Page): Promise<Region> {
  const box = (await page.locator('.stage').boundingBox())!;
  return { x: box.x + box.width * 0.15, y: box.y + box.height * 0.08, width: box.width * 0.7, height: box.height * 0.8 };
}

describe('avatar states and layered expression (Chromium)', () => {
  it('looks different when idle, thinking and speaking, and says so in the diagnostics', async () => {
    const { page, pageErrors } = await openApp(e2e);
    const region = await avatarRegion(page);
    const full = (name: string): string => join(screenshotDir, `${name}.png`);

    await waitForDiagnostics(e2e, page, 'idle', () => window.avatarDiagnostics?.state === 'idle' && window.avatarDiagnostics.frame > 4);
    const idle = await page.screenshot({ path: full('idle') });
    expect((await page.evaluate(() => window.avatarDiagnostics!)).state).toBe('idle');

    // The scripted LLM waits 4 s before its first token: the avatar thinks visibly meanwhile.
    // Long open vowels in the reply give the speaking capture a clearly open mouth.
    await send(page, 'think 4000 ms: say: Aaaaaaaaaaaah, I think the answer is laaaaaaaaaarge. Aaaaaaaaaaaall of it.');
    await waitForDiagnostics(e2e, page, 'the thinking look', () => window.avatarDiagnostics?.state === 'thinking' && window.avatarDiagnostics.morphWeights.browInnerUp! > 0.5);
    const thinking = await page.screenshot({ path: full('thinking') });
    expect((await page.evaluate(() => window.avatarDiagnostics!)).state).toBe('thinking');

    await waitForDiagnostics(e2e, page, 'an open mouth while speaking', () => window.avatarDiagnostics?.state === 'speaking' && window.avatarDiagnostics.mouthOpen > 0.3);
    // Frames are slow under software GL: keep the capture whose frame shows the widest mouth.
    // The mouth must be open in the diagnostics just before and just after the capture.
    let speaking: { open: number; image: Buffer } = { open: -1, image: Buffer.alloc(0) };
    for (let attempt = 0; attempt < 12 && speaking.open < 0.6; attempt += 1) {
      const before = await page.evaluate(() => window.avatarDiagnostics!);
      const shot = await page.screenshot();
      const after = await page.evaluate(() => window.avatarDiagnostics!);
      if (after.state !== 'speaking') break;
      const open = Math.min(before.mouthOpen, after.mouthOpen);
      if (open > speaking.open) speaking = { open, image: shot };
    }
    expect(speaking.open).toBeGreaterThan(0.3);
    writeFileSync(full('speaking'), speaking.image);

    // Every pair differs in the avatar region (thinking: head tilt, eyes up, thought bubble;
    // speaking: the open mouth and the head's speech motion).
    const differences = {
      idleThinking: await pixelDifference(idle, thinking, region),
      idleSpeaking: await pixelDifference(idle, speaking.image, region),
      thinkingSpeaking: await pixelDifference(thinking, speaking.image, region),
    };
    for (const [pair, share] of Object.entries(differences)) expect(share, `${pair}: ${JSON.stringify(differences)}`).toBeGreaterThan(0.01);
    await waitForReplyEnd(e2e, page, 1);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('blinks and moves the mouth while speaking with an emotion', async () => {
    const { page, pageErrors } = await openApp(e2e);
    // Every rendered frame's emotion, and the face on the audio clock between frames.
    await page.evaluate(() => {
      const frames: { state: string; emotion: string; emotionWeight: number; smile: number; at: number }[] = [];
      (window as unknown as { emotionFrames: typeof frames }).emotionFrames = frames;
      const tick = (): void => {
        const d = window.avatarDiagnostics;
        if (d) frames.push({ state: d.state, emotion: d.emotion, emotionWeight: d.emotionWeight, smile: d.morphWeights.mouthSmile ?? 0, at: d.audioTimeSec });
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      window.avatarLipSyncProbe!.start(5);
    });
    await send(page, 'say: I am so happy to see you! Thank you, this is a wonderful day. I love talking with you, it is great fun, and we laugh a lot.');
    await waitForReplyEnd(e2e, page, 1);
    const samples: FaceSample[] = await page.evaluate(() => window.avatarLipSyncProbe!.stop());
    const frames = await page.evaluate(() => (window as unknown as { emotionFrames: { state: string; emotion: string; emotionWeight: number; smile: number; at: number }[] }).emotionFrames);

    const happy = frames.filter((frame) => frame.state === 'speaking' && frame.emotion === 'happy' && frame.emotionWeight >= 0.5);
    expect(happy.length, 'frames speaking with a happy face').toBeGreaterThan(2);
    expect(Math.max(...happy.map((frame) => frame.smile)), 'the happy face smiles').toBeGreaterThan(0.15);

    // While the emotion shows, the face keeps blinking and the mouth keeps speaking.
    const fromSec = Math.min(...happy.map((frame) => frame.at));
    const toSec = Math.max(...happy.map((frame) => frame.at));
    const during = samples.filter((sample) => sample.audioTimeMs >= fromSec * 1000 && sample.audioTimeMs <= toSec * 1000);
    expect(during.length).toBeGreaterThan(50);
    expect(Math.max(...during.map((sample) => sample.weights.eyeBlinkLeft ?? 0)), 'a blink during emotional speech').toBeGreaterThan(0.8);
    const jaw = during.map((sample) => sample.mouthOpen);
    expect(Math.max(...jaw) - Math.min(...jaw), 'the mouth moves during emotional speech').toBeGreaterThan(0.4);
    // The blink never moves the mouth: during blinks the lips still close on bilabials and open on vowels.
    const blinking = during.filter((sample) => (sample.weights.eyeBlinkLeft ?? 0) > 0.5);
    expect(blinking.length).toBeGreaterThan(0);
    for (const sample of blinking) expect(sample.weights.eyeBlinkRight).toBe(sample.weights.eyeBlinkLeft);
    // Emotion does not fight the mouth: the smile yields while the mouth is open.
    const wideOpen = during.filter((sample) => sample.mouthOpen > 0.5);
    const closed = during.filter((sample) => (sample.weights.viseme_sil ?? 0) > 0.9);
    if (wideOpen.length > 0 && closed.length > 0) {
      expect(Math.max(...wideOpen.map((sample) => sample.weights.mouthSmile ?? 0))).toBeLessThan(Math.max(...closed.map((sample) => sample.weights.mouthSmile ?? 0)));
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('shows the chroma key #00FF00 or nothing behind the avatar, by URL and by the settings event', async () => {
    const { page, pageErrors } = await openApp(e2e, { query: 'background=chroma' });
    await waitForDiagnostics(e2e, page, 'chroma mode', () => window.avatarDiagnostics?.background === 'chroma');
    const stage = (await page.locator('.stage').boundingBox())!;
    // A stage corner away from the overlays and the avatar: pure key green, in the page and in the canvas.
    const corner = { x: Math.round(stage.x + stage.width * 0.95), y: Math.round(stage.y + stage.height * 0.55), width: 1, height: 1 };
    const pixel = await scratch.evaluate(async (base64) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
      const canvas = new OffscreenCanvas(1, 1);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      return [...context.getImageData(0, 0, 1, 1).data];
    }, (await page.screenshot({ clip: corner })).toString('base64'));
    expect(pixel.slice(0, 3)).toEqual([0, 255, 0]);
    expect(await page.evaluate(() => document.documentElement.dataset.background)).toBe('chroma');

    // The settings panel announces its choice with the `avatar-background` event.
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('avatar-background', { detail: 'transparent' })));
    await waitForDiagnostics(e2e, page, 'transparent mode', () => window.avatarDiagnostics?.background === 'transparent');
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('.stage')!).backgroundImage)).toBe('none');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
