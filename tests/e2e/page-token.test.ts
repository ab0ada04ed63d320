import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHref, openPage, startAvatarE2e, waitForDiagnostics, type AvatarE2e } from '../support/avatar-e2e';
import { chromiumMissingReason } from '../support/serve-process';

/**
 * The access token leaves the address bar (and so the browser's history) as soon as the page has
 * read it; every other parameter stays, and a reload of the same tab still connects. Real Chromium
 * against the scripted `serve` host, for the app page and the viewer page.
 */

const missing = chromiumMissingReason();
const VIEW_ADDRESS = /(http:\/\/127\.0\.0\.1:\d+\/view\?token=\S+)/;

let e2e: AvatarE2e;

beforeAll(async () => {
  if (missing) return;
  e2e = await startAvatarE2e();
});

afterAll(async () => {
  await e2e?.close();
});

describe.skipIf(missing !== null)(`page token${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('the app page drops ?token= from its address, keeps the other parameters, and reconnects after a reload', async () => {
    // A context of its own: the second tab below opens in the same browser profile.
    const context = await e2e.browser.newContext({ viewport: { width: 980, height: 640 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(appHref(e2e, 'background=chroma&quality=light'));
    await waitForDiagnostics(e2e, page, 'a session', () => !!window.avatarDiagnostics?.sessionId && window.avatarDiagnostics.connection === 'open', 60_000);
    const href = new URL(await page.evaluate(() => location.href));
    expect(href.searchParams.has('token')).toBe(false);
    // appHref adds conversation=none (each test's own conversation): every parameter but the token stays.
    expect(href.search).toBe('?conversation=none&background=chroma&quality=light');
    expect(await page.evaluate(() => window.avatarDiagnostics?.connection)).toBe('open');
    const firstSession = await page.evaluate(() => window.avatarDiagnostics?.sessionId);

    await page.reload();
    await waitForDiagnostics(e2e, page, 'a session after the reload', () => !!window.avatarDiagnostics?.sessionId && window.avatarDiagnostics.connection === 'open', 60_000);
    expect(await page.evaluate(() => window.avatarDiagnostics?.sessionId)).not.toBe(firstSession);
    expect(new URL(await page.evaluate(() => location.href)).search).toBe('?conversation=none&background=chroma&quality=light');
    // The token is this tab's only: a new tab on the bare address is not let in.
    const other = await context.newPage();
    await other.goto(new URL('/', appHref(e2e)).href);
    await expect.poll(() => other.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('connection to the engine closed');
    await other.close();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('the viewer page drops ?token= and still reaches the share after a reload', async () => {
    const viewUrl = VIEW_ADDRESS.exec(e2e.serve.output())![1]!;
    const { page, pageErrors } = await openPage(e2e, `${viewUrl}&background=transparent`);
    // Nobody shares: "waiting" means the signaling socket was let in with the token.
    await page.waitForFunction(() => window.avatarViewerStatus?.state === 'waiting', null, { timeout: 30_000 });
    expect(new URL(await page.evaluate(() => location.href)).search).toBe('?background=transparent');
    await page.reload();
    await page.waitForFunction(() => window.avatarViewerStatus?.state === 'waiting', null, { timeout: 30_000 });
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
