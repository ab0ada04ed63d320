import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONVERSATIONS_FOLDER } from '../../app/engine/conversation/conversation-journal';
import { ScaleoutCluster, scaleoutMissingReason } from '../support/scaleout-cluster';
import { chromiumMissingReason, launchChromium } from '../support/serve-process';

/**
 * The real page behind the load balancer: three `serve` engines in network namespaces behind
 * HAProxy (deploy/haproxy.cfg). The page gets a conversation id in its address, its engine is
 * killed mid-conversation, and the page — reconnecting by itself — shows the conversation again and
 * continues it on another engine; "New conversation" moves the address to the new one.
 */
const missing = scaleoutMissingReason() ?? chromiumMissingReason();

describe.skipIf(missing !== null)(`the page behind HAProxy${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  const cluster = new ScaleoutCluster();
  let browser: Browser | undefined;

  beforeAll(async () => {
    await cluster.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await cluster.close();
  });

  const bubbles = (page: Page): Promise<string[]> => page.locator('.transcript .bubble .bubble-text').allTextContents();
  const sessionId = (page: Page): Promise<string | null> => page.evaluate(() => window.avatarDiagnostics?.sessionId ?? null);
  const addressConversation = (page: Page): string | null => new URL(page.url()).searchParams.get('conversation');

  async function say(page: Page, text: string): Promise<void> {
    const before = await page.locator('.bubble-avatar:not(.bubble-pending)').count();
    await page.getByLabel('Message').fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('.bubble-avatar:not(.bubble-pending)').count(), { timeout: 30_000 }).toBe(before + 1);
  }

  it('continues the conversation on another engine when its engine dies', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(`http://${cluster.lbHost}/?token=${cluster.token}`);
    const conversationId = addressConversation(page);
    expect(conversationId).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await expect.poll(() => page.getByLabel('Message').getAttribute('placeholder'), { timeout: 60_000 }).toBe('Type a message…');
    await say(page, 'My name is Ada.');
    const shown = await bubbles(page);
    expect(shown).toHaveLength(2);

    const journal = join(cluster.dataDir, CONVERSATIONS_FOLDER, `${conversationId}.jsonl`);
    const lines = (type: string): string[] =>
      readFileSync(journal, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; text?: string })
        .filter((line) => line.type === type)
        .map((line) => line.text!);
    // The reply is journaled once it has played: the engine dies after that.
    await expect.poll(() => lines('avatar'), { timeout: 30_000 }).toHaveLength(1);
    const first = (await cluster.stickTable()).get(conversationId!);
    expect(first, cluster.output()).toBeDefined();
    const oldSession = await sessionId(page);
    await cluster.kill(`engine${first}`);

    // The page reconnects by itself; the engine it reaches now loads the conversation from the shared folder.
    await expect.poll(async () => (await cluster.stickTable()).get(conversationId!), { timeout: 30_000 }).not.toBe(first);
    await expect.poll(async () => [null, oldSession].includes(await sessionId(page)), { timeout: 30_000 }).toBe(false);
    await expect.poll(() => bubbles(page), { timeout: 30_000 }).toEqual([shown[0], lines('avatar')[0]]);
    await say(page, 'What is my name?');
    expect(await bubbles(page)).toHaveLength(4);
    await expect.poll(() => lines('user'), { timeout: 10_000 }).toEqual(['My name is Ada.', 'What is my name?']);

    // A new conversation: the address follows it, so a reload continues the new one.
    await page.getByRole('button', { name: 'New conversation' }).click();
    await expect.poll(() => bubbles(page), { timeout: 30_000 }).toEqual([]);
    await expect.poll(() => addressConversation(page), { timeout: 10_000 }).not.toBe(conversationId);
    const next = addressConversation(page);
    await say(page, 'A fresh start.');
    await page.reload();
    await expect.poll(async () => (await bubbles(page))[0], { timeout: 60_000 }).toBe('A fresh start.');
    expect(addressConversation(page)).toBe(next);
  });
});
