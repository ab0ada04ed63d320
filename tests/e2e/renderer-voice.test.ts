import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHref, type AvatarE2e, openPage, root, startAvatarE2e, waitForDiagnostics } from '../support/avatar-e2e';
import { chromiumMissingReason, fakeMicrophoneArgs } from '../support/serve-process';

/**
 * Voice through the whole app: Chromium's fake microphone plays a spoken question (looped), the
 * page starts the mic from `?mic=1`, the AudioWorklet sends 16 kHz `mic.audio` frames, the engine
 * (scripted profile: energy VAD, an STT that reports the utterance length) endpoints the question,
 * replies, and the avatar speaks with a moving mouth. The loop plays the question again while the
 * avatar talks, which is a barge-in.
 */

function hasSox(): boolean {
  return spawnSync('sox', ['--version'], { stdio: 'ignore' }).status === 0;
}

const missing = !hasSox() ? 'sox is not installed' : chromiumMissingReason();

interface Sample {
  state: string;
  mouthOpen: number;
  chunksPlayed: number;
}

let e2e: AvatarE2e;
let workDir = '';

/**
 * 0.5 s of silence, the question, 4 s of silence; 16 kHz mono 16-bit. The fake capture loops the
 * file: the trailing silence lets the endpoint close and the reply's first sentence (about 2 s)
 * play to its end before the question comes round again and barges in.
 */
function makeQuestionWav(): string {
  workDir = mkdtempSync(join(tmpdir(), 'avatar-voice-'));
  const raw = join(workDir, 'q-raw.wav');
  const wav = join(workDir, 'q.wav');
  const say = spawnSync('npx', ['tsx', 'app/hosts/cli/cli.ts', 'say', '--text', 'What is the weather like today?', '--out', raw], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (say.status !== 0 || !existsSync(raw)) throw new Error(`cli say failed (${say.status}): ${say.stderr}`);
  const sox = spawnSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', wav, 'pad', '0.5', '4'], { encoding: 'utf8' });
  if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr}`);
  return wav;
}

beforeAll(async () => {
  if (missing) return;
  e2e = await startAvatarE2e({ browserArgs: fakeMicrophoneArgs(makeQuestionWav()) });
});

afterAll(async () => {
  await e2e?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(`renderer voice (fake microphone)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('hears a spoken question, answers it aloud, and stops when the user talks over it', async () => {
    const { page, pageErrors } = await openPage(e2e, appHref(e2e, 'mic=1'));

    // Sample every animation frame from inside the page.
    await page.evaluate(() => {
      const samples: Sample[] = [];
      (window as unknown as { samples: Sample[] }).samples = samples;
      const sample = (): void => {
        const d = window.avatarDiagnostics;
        if (d) samples.push({ state: d.state, mouthOpen: d.mouthOpen, chunksPlayed: d.chunksPlayed });
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
      // Partial transcripts are on screen only while the user speaks: record every one as it appears.
      const provisional: Array<{ text: string; fontStyle: string }> = [];
      (window as unknown as { provisional: typeof provisional }).provisional = provisional;
      new MutationObserver(() => {
        for (const text of document.querySelectorAll('[data-provisional="true"] .bubble-text')) {
          provisional.push({ text: text.textContent ?? '', fontStyle: getComputedStyle(text).fontStyle });
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });

    await waitForDiagnostics(e2e, page, 'the mic sending frames', () => (window.avatarDiagnostics?.mic.framesSent ?? 0) > 10, 120_000);
    const early = await page.evaluate(() => window.avatarDiagnostics!.mic);
    expect(early.active).toBe(true);
    expect(await page.getByRole('button', { name: 'Mic on' }).getAttribute('aria-pressed')).toBe('true');

    // The question is endpointed and transcribed (final: no longer pending).
    const finalUser = page.locator('.bubble-user:not(.bubble-pending)');
    await expect.poll(() => finalUser.count(), { timeout: 120_000 }).toBeGreaterThan(0);
    expect(await finalUser.first().textContent()).toMatch(/spoke for/i);

    // The reply is spoken with a moving mouth.
    await waitForDiagnostics(e2e, page, 'reply audio', () => (window.avatarDiagnostics?.chunksPlayed ?? 0) > 0 && window.avatarDiagnostics!.replyText.length > 0, 120_000);
    await waitForDiagnostics(e2e, page, 'an open mouth', () => (window.avatarDiagnostics?.mouthOpen ?? 0) > 0.15, 60_000, 'raf');
    await page.screenshot({ path: join(root, 'test-results', 'renderer-voice.png') });

    // Frames keep flowing at about 50 per second.
    const before = await page.evaluate(() => window.avatarDiagnostics!.mic.framesSent);
    await page.waitForTimeout(1000);
    const after = await page.evaluate(() => window.avatarDiagnostics!.mic.framesSent);
    expect(after - before).toBeGreaterThan(20);

    // The looped question comes back while the avatar talks: a barge-in cuts the reply short.
    await expect.poll(() => page.getByRole('log').textContent(), { timeout: 60_000 }).toContain('(interrupted)');
    await waitForDiagnostics(e2e, page, 'a barge-in in a turn trace', () => window.avatarDiagnostics?.lastTurn?.bargeInMs !== undefined, 60_000);
    const interrupted = await page.evaluate(() => window.avatarDiagnostics!.lastTurn!);
    expect(interrupted.source).toBe('voice');
    expect(interrupted.audioStoppedMs).toBeGreaterThanOrEqual(interrupted.bargeInMs!);

    // While the question was being spoken, its partial transcript showed, styled as provisional.
    // (The fake microphone may start mid-question: a first fragment shorter than the partial
    // interval has none, so this waits for a whole pass of the looped question.)
    const provisional = (): Promise<Array<{ text: string; fontStyle: string }>> =>
      page.evaluate(() => (window as unknown as { provisional: Array<{ text: string; fontStyle: string }> }).provisional);
    await expect.poll(async () => (await provisional()).length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect((await provisional())[0]).toMatchObject({ text: expect.stringMatching(/spoke for/i), fontStyle: 'italic' });

    // Mute keeps the stream going but silent; M turns the microphone off.
    await page.getByRole('button', { name: 'Mute' }).click();
    await waitForDiagnostics(e2e, page, 'a silent meter while muted', () => window.avatarDiagnostics?.mic.level === 0, 10_000);
    const muted = await page.evaluate(() => window.avatarDiagnostics!.mic.framesSent);
    await expect.poll(() => page.evaluate(() => window.avatarDiagnostics!.mic.framesSent), { timeout: 10_000 }).toBeGreaterThan(muted + 10);
    await page.keyboard.press('m');
    await waitForDiagnostics(e2e, page, 'the mic off', () => window.avatarDiagnostics?.mic.active === false, 10_000);
    expect(await page.getByRole('button', { name: 'Mic off' }).getAttribute('aria-pressed')).toBe('false');
    const off = await page.evaluate(() => window.avatarDiagnostics!.mic.framesSent);
    expect(off).toBeGreaterThan(muted);

    const samples = await page.evaluate(() => (window as unknown as { samples: Sample[] }).samples);
    const states = new Set(samples.map((s) => s.state));
    expect(states).toContain('listening');
    expect(states).toContain('speaking');
    expect(Math.max(...samples.map((s) => s.mouthOpen))).toBeGreaterThan(0.15);
    const done = await page.evaluate(() => window.avatarDiagnostics!);
    expect(done.transcript.some((entry) => entry.role === 'avatar' && entry.text.length > 0)).toBe(true);
    expect(done.errors).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('in push-to-talk mode (a saved setting) the engine hears the question only while Space is held', async () => {
    const { page, pageErrors } = await openPage(e2e, appHref(e2e, 'mic=1'), {
      beforeLoad: (p) => p.addInitScript({ content: `localStorage.setItem('avatar.settings', JSON.stringify({ micMode: 'push-to-talk' }));` }),
    });
    await page.evaluate(() => {
      const levels: number[] = [];
      (window as unknown as { levels: number[] }).levels = levels;
      const sample = (): void => {
        levels.push(window.avatarDiagnostics?.mic.level ?? 0);
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    });
    expect(await page.getByRole('checkbox', { name: 'Push to talk (Space)' }).isChecked()).toBe(true);

    // Key up for longer than one loop of the question (6 s): frames flow, all silent, no turn.
    await waitForDiagnostics(e2e, page, 'the mic sending frames', () => (window.avatarDiagnostics?.mic.framesSent ?? 0) > 10, 60_000);
    await waitForDiagnostics(e2e, page, 'a full loop of the question', () => (window.avatarDiagnostics?.mic.framesSent ?? 0) > 350, 30_000);
    expect(Math.max(...(await page.evaluate(() => (window as unknown as { levels: number[] }).levels)))).toBe(0);
    expect(await page.locator('.bubble-user').count()).toBe(0);

    // Held for a loop: the question is heard, endpointed and answered.
    await page.keyboard.down('Space');
    await expect.poll(() => page.getByRole('group', { name: 'Microphone' }).locator('.mic-hint').textContent()).toBe('Talking…');
    // Loop (6 s) plus the question (1.5 s): the window holds one whole question wherever it starts.
    await page.waitForTimeout(7600);
    await page.keyboard.up('Space');
    expect(Math.max(...(await page.evaluate(() => (window as unknown as { levels: number[] }).levels)))).toBeGreaterThan(0.3);
    const finalUser = page.locator('.bubble-user:not(.bubble-pending)');
    await expect.poll(() => finalUser.count(), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await finalUser.first().textContent()).toMatch(/spoke for/i);
    await waitForDiagnostics(e2e, page, 'reply audio', () => window.avatarDiagnostics?.replyText !== '', 60_000);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
