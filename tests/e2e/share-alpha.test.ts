import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countViewerFrames, launchShareBrowser, openSharingApp, openViewer, startShareServe, type ShareServe } from '../support/share-session';
import { decodePng } from '../support/png-pixels';

/**
 * The alpha-packed share in real Chromium: the app shares with `&pack=alpha` (colour left, alpha as
 * grey right, 2560×720 for 720p30), the viewer page unpacks it into a transparent canvas, as an OBS
 * Browser Source shows it. Pixels are read back from the received video frame and from a screenshot
 * of the viewer page with no page background (alpha kept).
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

async function waitUnpacking(viewer: Page): Promise<void> {
  try {
    await viewer.waitForFunction(
      () => window.avatarViewerStatus?.state === 'playing' && document.documentElement.classList.contains('unpacked'),
      null,
      { timeout: 20_000 },
    );
  } catch (error) {
    const status = await viewer.evaluate(() => JSON.stringify(window.avatarViewerStatus)).catch(() => 'unavailable');
    throw new Error(`The viewer did not unpack a stream (status ${status}); serve output:\n${serve.output().slice(-1500)}`, { cause: error });
  }
}

interface PackedFrame {
  width: number;
  height: number;
  /** Share of the right half that is opaque grey (> 200). */
  opaqueRatio: number;
  /** Pixels where colour (left) and alpha (right) agree: opaque over something, transparent over black. */
  agreementRatio: number;
  /** Opaque area's bounding box in the picture (left-half coordinates). */
  box: { left: number; top: number; right: number; bottom: number };
  /** Grey levels of the alpha half: the avatar's inside and the frame's corner. */
  insideGrey: number;
  cornerGrey: number;
  /** Colour at the inside point (left half). */
  insideColour: number[];
  inside: { x: number; y: number };
}

/** Reads the video's current frame and checks that its halves line up as colour and alpha. */
function readPackedFrame(viewer: Page): Promise<PackedFrame> {
  return viewer.evaluate(() => {
    const video = document.querySelector('video')!;
    const width = video.videoWidth;
    const height = video.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    context.drawImage(video, 0, 0);
    const pixels = context.getImageData(0, 0, width, height).data;
    const half = width / 2;
    const at = (x: number, y: number): number => (y * width + x) * 4;
    let opaque = 0;
    let agree = 0;
    let samples = 0;
    const box = { left: half, top: height, right: 0, bottom: 0 };
    for (let y = 0; y < height; y += 2) {
      for (let x = 0; x < half; x += 2) {
        const grey = pixels[at(x + half, y) + 1]!;
        const colour = pixels[at(x, y)]! + pixels[at(x, y) + 1]! + pixels[at(x, y) + 2]!;
        samples += 1;
        if (grey > 200) {
          opaque += 1;
          box.left = Math.min(box.left, x);
          box.top = Math.min(box.top, y);
          box.right = Math.max(box.right, x);
          box.bottom = Math.max(box.bottom, y);
          if (colour > 45) agree += 1;
        } else if (grey < 20 && colour < 30) agree += 1;
        else if (grey >= 20) agree += 1; // an edge: coverage between the two
      }
    }
    // A quarter of the way down the silhouette, in its middle: the face.
    const inside = { x: Math.round((box.left + box.right) / 2), y: Math.round(box.top + (box.bottom - box.top) / 4) };
    const colourAt = at(inside.x, inside.y);
    return {
      width,
      height,
      opaqueRatio: opaque / samples,
      agreementRatio: agree / samples,
      box,
      insideGrey: pixels[at(inside.x + half, inside.y) + 1]!,
      cornerGrey: pixels[at(half + 8, 8) + 1]!,
      insideColour: [pixels[colourAt]!, pixels[colourAt + 1]!, pixels[colourAt + 2]!],
      inside,
    };
  });
}

interface PageAlpha {
  /** Largest alpha in the corner blocks (the page's transparent background). */
  cornerAlphaMax: number;
  /** RGBA (not premultiplied) at a point. */
  inside: number[];
  /** Share of the page that is opaque (alpha > 200). */
  opaqueRatio: number;
}

/** Measures a PNG screenshot (alpha kept). */
function measureScreenshot(png: Buffer, point: { x: number; y: number }): PageAlpha {
  const { width, height, data, alpha, rgba } = decodePng(png);
  let cornerAlphaMax = 0;
  for (const [left, top] of [
    [0, 0],
    [width - 40, 0],
    [0, height - 40],
    [width - 40, height - 40],
  ] as const) {
    for (let y = top; y < top + 40; y++) for (let x = left; x < left + 40; x++) cornerAlphaMax = Math.max(cornerAlphaMax, alpha(x, y));
  }
  let opaque = 0;
  for (let index = 3; index < data.length; index += 4) if (data[index]! > 200) opaque += 1;
  return { cornerAlphaMax, inside: rgba(point.x, point.y), opaqueRatio: opaque / (width * height) };
}

describe('alpha-packed share (transparent avatar for OBS)', () => {
  it('sends colour and alpha side by side at twice the width, and the viewer shows the avatar opaque on a transparent page', async () => {
    const app = await openSharingApp(browser, serve, '&pack=alpha');
    const pageErrors: string[] = [];
    app.on('pageerror', (error) => pageErrors.push(error.message));
    const viewer = await openViewer(browser, serve, '&unpack=alpha');
    viewer.on('pageerror', (error) => pageErrors.push(error.message));
    await waitUnpacking(viewer);

    // The received frames are packed: 2560x720 for the 720p30 preset.
    const video = await countViewerFrames(viewer, 1500);
    expect(video.frames).toBeGreaterThanOrEqual(1);
    expect([video.width, video.height]).toEqual([2560, 720]);

    // Left colour and right alpha line up: opaque grey where the avatar is (a head-and-shoulders
    // silhouette, not the whole frame), black elsewhere, and colour (premultiplied) only inside it.
    const frame = await readPackedFrame(viewer);
    expect(frame.opaqueRatio).toBeGreaterThan(0.08);
    expect(frame.opaqueRatio).toBeLessThan(0.6);
    expect(frame.agreementRatio).toBeGreaterThan(0.97);
    expect(frame.insideGrey).toBeGreaterThan(240);
    expect(frame.cornerGrey).toBeLessThan(16);
    const [red, green, blue] = frame.insideColour as [number, number, number];
    // Skin, not the grey of the alpha half nor the black of the background.
    expect(red).toBeGreaterThan(120);
    expect(red - blue).toBeGreaterThan(20);

    // The viewer page: the 1280x720 picture contained in its 640x360 window (scale 0.5), page
    // background transparent, avatar opaque with the sent colour.
    const point = { x: Math.round(frame.inside.x / 2), y: Math.round(frame.inside.y / 2) };
    const shot = measureScreenshot(await viewer.screenshot({ omitBackground: true }), point);
    expect(shot.cornerAlphaMax).toBeLessThanOrEqual(8);
    expect(shot.inside[3]).toBeGreaterThanOrEqual(250);
    expect(Math.abs(shot.inside[0]! - red)).toBeLessThan(40);
    expect(Math.abs(shot.inside[1]! - green)).toBeLessThan(40);
    expect(Math.abs(shot.inside[2]! - blue)).toBeLessThan(40);
    expect(Math.abs(shot.opaqueRatio - frame.opaqueRatio)).toBeLessThan(0.05);

    // Without `unpack`, a viewer (an OBS source set up before) recognises the packed frame by itself.
    const automatic = await openViewer(browser, serve);
    await waitUnpacking(automatic);
    expect(await automatic.evaluate(() => (document.getElementById('unpacked') as HTMLCanvasElement).hidden)).toBe(false);
    expect(pageErrors).toEqual([]);
    await automatic.close();
    await viewer.close();
    await app.close();
  });
});
