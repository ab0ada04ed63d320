import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, launchChromium, startServeProcess, type ServeProcess } from '../support/serve-process';

/**
 * The conversation is kept: a reloaded page shows the last conversation (the engine journals it in
 * the data folder), "New conversation" empties it, "Export JSON" downloads it. `serve` on the
 * scripted profile, real Chromium.
 */

const missing = chromiumMissingReason();

let dataDir = '';
let serve: ServeProcess | undefined;
let browser: Browser;

beforeAll(async () => {
  if (missing) return;
  dataDir = mkdtempSync(join(tmpdir(), 'avatar-conversation-e2e-'));
  browser = await launchChromium();
  // The serve child inherits this worker's environment: its conversations live in dataDir.
  process.env.AVATAR_DATA_DIR = dataDir;
  serve = await startServeProcess('scripted');
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  delete process.env.AVATAR_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const bubbles = (page: Page): Promise<string[]> => page.locator('.transcript .bubble .bubble-text').allTextContents();

async function say(page: Page, text: string): Promise<void> {
  const before = await page.locator('.bubble-avatar:not(.bubble-pending)').count();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect.poll(() => page.locator('.bubble-avatar:not(.bubble-pending)').count(), { timeout: 30_000 }).toBe(before + 1);
}

describe.skipIf(missing !== null)(`conversation kept${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('shows the last conversation after a reload; New conversation empties it; Export JSON downloads it', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(serve!.url.href);
    await expect.poll(() => page.getByLabel('Message').getAttribute('placeholder'), { timeout: 60_000 }).toBe('Type a message…');

    await say(page, 'My name is Ada.');
    await say(page, 'What is my name?');
    const shown = await bubbles(page);
    expect(shown).toHaveLength(4);
    expect(shown[0]).toBe('My name is Ada.');

    // The second message cut the first reply off while it played, and the reload the second: the
    // kept conversation has each reply as far as it was heard (a prefix of what was shown).
    await page.reload();
    await expect.poll(async () => (await bubbles(page)).length, { timeout: 60_000 }).toBe(4);
    const restored = await bubbles(page);
    expect([restored[0], restored[2]]).toEqual([shown[0], shown[2]]);
    for (const index of [1, 3]) {
      expect(restored[index]!.length).toBeGreaterThan(0);
      expect(shown[index]!.startsWith(restored[index]!)).toBe(true);
    }

    const downloading = page.waitForEvent('download', { timeout: 30_000 });
    await page.getByRole('button', { name: 'Export JSON' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^conversation-.+\.json$/);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { messages: Array<{ role: string; text: string }> };
    expect(exported.messages.map((message) => message.text)).toEqual(restored);

    await page.getByRole('button', { name: 'New conversation' }).click();
    await expect.poll(() => bubbles(page), { timeout: 30_000 }).toEqual([]);
    await page.reload();
    await expect.poll(() => page.getByLabel('Message').getAttribute('placeholder'), { timeout: 60_000 }).toBe('Type a message…');
    expect(await bubbles(page)).toEqual([]);
    // The old conversation stays on disk beside the new one.
    expect(readdirSync(join(dataDir, 'conversations')).filter((name) => name.endsWith('.jsonl'))).toHaveLength(2);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
