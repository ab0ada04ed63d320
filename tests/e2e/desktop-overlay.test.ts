import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../support/png-pixels';
import { type AvatarE2e, openApp, screenshotDir, startAvatarE2e, waitForDiagnostics } from '../support/avatar-e2e';

/**
 * The desktop overlay's page (`?overlay=1`, what the Electron overlay window loads) in real Chromium:
 * the avatar alone, opaque, on a fully transparent page, with no panel or button; a saved or
 * requested background does not paint behind it. Alpha is read from a screenshot taken without a
 * page background, as a transparent window composites it.
 */

let e2e: AvatarE2e;

beforeAll(async () => {
  e2e = await startAvatarE2e();
});

afterAll(async () => {
  await e2e?.close();
});

interface OverlayAlpha {
  width: number;
  height: number;
  /** Bounding box of the opaque pixels (alpha > 200): the avatar. */
  box: { left: number; top: number; right: number; bottom: number };
  /** Share of the page that is opaque (alpha > 200), and exactly transparent (alpha 0). */
  opaqueRatio: number;
  clearRatio: number;
  /** Pixels with any alpha farther than the margin from the avatar's box (haze, a backdrop, a panel). */
  strayOutside: number;
  /** Alpha a quarter of the way down the avatar's box, in its middle (the face), and above its head. */
  insideAlpha: number;
  aboveAlpha: number;
}

/** Measures where a PNG screenshot (alpha kept) is opaque. */
function measureAlpha(png: Buffer, marginPx: number): OverlayAlpha {
  const { width, height, alpha } = decodePng(png);
  const box = { left: width, top: height, right: -1, bottom: -1 };
  let opaque = 0;
  let clear = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = alpha(x, y);
      if (a === 0) clear += 1;
      if (a > 200) {
        opaque += 1;
        box.left = Math.min(box.left, x);
        box.top = Math.min(box.top, y);
        box.right = Math.max(box.right, x);
        box.bottom = Math.max(box.bottom, y);
      }
    }
  }
  let strayOutside = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const near = x >= box.left - marginPx && x <= box.right + marginPx && y >= box.top - marginPx && y <= box.bottom + marginPx;
      if (!near && alpha(x, y) > 0) strayOutside += 1;
    }
  }
  const middle = Math.round((box.left + box.right) / 2);
  return {
    width,
    height,
    box,
    opaqueRatio: opaque / (width * height),
    clearRatio: clear / (width * height),
    strayOutside,
    insideAlpha: alpha(middle, Math.round(box.top + (box.bottom - box.top) / 4)),
    aboveAlpha: box.top > marginPx ? alpha(middle, Math.floor((box.top - marginPx) / 2)) : -1,
  };
}

describe('desktop overlay page', () => {
  it('shows the avatar alone: opaque on a fully transparent page, no panel or button, whatever background was asked for', async () => {
    // A chroma background requested by address (and, below, by the settings) must not reach the overlay.
    const { page, pageErrors } = await openApp(e2e, { query: 'overlay=1&background=chroma', viewport: { width: 480, height: 560 } });
    await waitForDiagnostics(e2e, page, 'the transparent background', () => window.avatarDiagnostics?.background === 'transparent');
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('avatar-background', { detail: 'chroma' })));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await page.evaluate(() => document.documentElement.dataset.background)).toBe('transparent');
    expect(await page.evaluate(() => window.avatarDiagnostics?.background)).toBe('transparent');

    // Nothing but the avatar: no controls, dialogs or panels, no text at all.
    expect(await page.locator('button, input, textarea, select, nav, section, [role="dialog"]').count()).toBe(0);
    expect(await page.evaluate(() => document.body.innerText.trim())).toBe('');
    expect(await page.getByRole('img', { name: 'Avatar' }).isVisible()).toBe(true);

    const png = await page.screenshot({ omitBackground: true });
    writeFileSync(join(screenshotDir, 'desktop-overlay.png'), png);
    const shot = measureAlpha(png, 6);
    // The avatar: a head-and-shoulders silhouette, opaque inside, not the whole window.
    expect(shot.opaqueRatio, JSON.stringify(shot)).toBeGreaterThan(0.05);
    expect(shot.opaqueRatio, JSON.stringify(shot)).toBeLessThan(0.6);
    expect(shot.insideAlpha).toBeGreaterThanOrEqual(250);
    // Around it: alpha 0 everywhere beyond its anti-aliased edge (above the head, at the sides).
    expect(shot.box.top, JSON.stringify(shot.box)).toBeGreaterThan(12);
    expect(shot.aboveAlpha).toBe(0);
    expect(shot.strayOutside, JSON.stringify(shot)).toBe(0);
    expect(shot.clearRatio + shot.opaqueRatio, JSON.stringify(shot)).toBeGreaterThan(0.95);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
