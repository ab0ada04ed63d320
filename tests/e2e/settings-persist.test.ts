import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, launchChromium, startServeProcess, type ServeProcess } from '../support/serve-process';

/**
 * Settings survive: display and microphone settings a page reload (localStorage), the engine's
 * (persona, voice detection) a restart of `serve` with the same data folder (AVATAR_DATA_DIR).
 * Everything is set through the settings panel, with the keyboard where the app offers a shortcut.
 */

const missing = chromiumMissingReason();
const PERSONA = 'You are Captain Ava, a cheerful pirate. Answer in one short sentence.';

let dataDir = '';
let serve: ServeProcess | undefined;
let browser: Browser;

async function startServe(): Promise<URL> {
  // The serve child inherits this worker's environment: its settings file lives in dataDir.
  process.env.AVATAR_DATA_DIR = dataDir;
  serve = await startServeProcess('scripted');
  return serve.url;
}

async function openPanel(page: Page, how: ',' | 'Control+,'): Promise<void> {
  await page.locator('body').focus();
  await page.keyboard.press(how);
  await expect.poll(() => page.getByRole('dialog', { name: 'Settings' }).isVisible(), { timeout: 10_000 }).toBe(true);
  // The engine's part of the form is filled once it answered settings.get.
  await expect.poll(() => page.getByLabel('Persona (system prompt)').isEnabled(), { timeout: 30_000 }).toBe(true);
}

beforeAll(async () => {
  if (missing) return;
  dataDir = mkdtempSync(join(tmpdir(), 'avatar-settings-e2e-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  delete process.env.AVATAR_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(`settings persist${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('keeps panel settings across a reload and engine settings across a serve restart; a corrupt file is reported', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto((await startServe()).href);

    // `?` lists the shortcuts; Escape closes the list.
    await page.locator('body').focus();
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect.poll(() => help.isVisible()).toBe(true);
    expect(await help.textContent()).toMatch(/Microphone on \/ off.*Talk, in push-to-talk mode.*Stop the avatar talking/);
    await page.keyboard.press('Escape');
    await expect.poll(() => help.count()).toBe(0);

    await openPanel(page, ',');
    const panel = page.getByRole('dialog', { name: 'Settings' });
    await panel.getByLabel('Background').selectOption('chroma');
    await panel.getByLabel('Microphone mode').selectOption('push-to-talk');
    await panel.getByLabel('Persona (system prompt)').fill(PERSONA);
    await panel.getByLabel('Voice detection threshold').fill('0.3');
    await panel.getByLabel('Silence that ends a turn (ms)').fill('700');
    await panel.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => panel.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Saved.'); // voice detection applies from the next utterance
    // Invalid input is refused in words, not sent.
    await panel.getByLabel('LLM workers').fill('12');
    await panel.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => panel.getByRole('status').textContent()).toMatch(/^Not saved — poolSizes llm: Too big/);
    await panel.getByLabel('LLM workers').fill('');

    // Background and microphone mode apply at once.
    expect(await page.evaluate(() => document.documentElement.dataset.background)).toBe('chroma');
    expect(await page.evaluate(() => localStorage.getItem('avatar.background'))).toBe('chroma');
    expect(await page.getByRole('checkbox', { name: 'Push to talk (Space)' }).isChecked()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.count()).toBe(0);

    const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
    expect(saved).toEqual({ persona: PERSONA, vad: { threshold: 0.3, minSilenceMs: 700 }, poolSizes: {}, models: {} });

    // Reload: everything is still there.
    await page.reload();
    await openPanel(page, 'Control+,');
    expect(await panel.getByLabel('Background').inputValue()).toBe('chroma');
    expect(await panel.getByLabel('Microphone mode').inputValue()).toBe('push-to-talk');
    expect(await panel.getByLabel('Persona (system prompt)').inputValue()).toBe(PERSONA);
    expect(await panel.getByLabel('Voice detection threshold').inputValue()).toBe('0.3');
    expect(await panel.getByLabel('Silence that ends a turn (ms)').inputValue()).toBe('700');
    expect(await page.evaluate(() => document.documentElement.dataset.background)).toBe('chroma');
    expect(await page.getByRole('checkbox', { name: 'Push to talk (Space)' }).isChecked()).toBe(true);

    // Restart serve on the same data folder (a new port is a new origin: only engine settings carry over).
    await serve!.stop();
    expect(pageErrors).toEqual([]);
    // One WebGL page at a time: SwiftShader on a shared CPU is slow enough with one.
    await context.close();
    const second = await browser.newPage();
    await second.goto((await startServe()).href);
    await openPanel(second, ',');
    const panel2 = second.getByRole('dialog', { name: 'Settings' });
    expect(await panel2.getByLabel('Persona (system prompt)').inputValue()).toBe(PERSONA);
    expect(await panel2.getByLabel('Silence that ends a turn (ms)').inputValue()).toBe('700');
    expect(await panel2.getByRole('status').textContent()).toBe('');
    await second.close();

    // A corrupt file: the app starts on the defaults and says so; the old file is kept.
    await serve!.stop();
    writeFileSync(join(dataDir, 'settings.json'), '{"persona": ');
    const third = await browser.newPage();
    await third.goto((await startServe()).href);
    await expect.poll(() => third.locator('.error-banner').textContent(), { timeout: 30_000 }).toMatch(/settings file was unusable/);
    await openPanel(third, ',');
    const panel3 = third.getByRole('dialog', { name: 'Settings' });
    expect(await panel3.getByRole('alert').textContent()).toMatch(/settings file was unusable \(not valid JSON.*kept as .*settings\.json\.corrupt/);
    expect(await panel3.getByLabel('Persona (system prompt)').inputValue()).toBe('');
    expect(readFileSync(join(dataDir, 'settings.json.corrupt'), 'utf8')).toBe('{"persona": ');
    expect(serve!.output()).toMatch(/settings file was unusable/);
    await third.close();
  });
});
