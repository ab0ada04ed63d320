import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AvatarFixtureKind, ensureAvatarFixtures } from '../../scripts/fixtures/avatar-fixture';
import type { FaceSample } from '../../app/renderer/lipsync/lipsync-probe';
import { type AvatarE2e, openApp, screenshotDir, send, startAvatarE2e, waitForDiagnostics, waitForReplyEnd } from '../support/avatar-e2e';

/**
 * User avatars in a real Chromium: the project's generated VRM 1.0, VRM 0.x, ARKit GLB and Oculus
 * GLB go through the file picker; the diagnostics name the new avatar and its morph table, and its
 * mouth (in its own naming) moves on the next reply. A damaged file is refused in words and the
 * avatar on stage stays.
 */

let e2e: AvatarE2e;
let fixtures: Record<AvatarFixtureKind, string>;

beforeAll(async () => {
  fixtures = await ensureAvatarFixtures();
  e2e = await startAvatarE2e();
});

afterAll(async () => {
  await e2e?.close();
});

const CASES: Array<{ fixture: AvatarFixtureKind; kind: string; format: string; name: string; mouth: string[]; blink: string }> = [
  { fixture: 'vrm1', kind: 'vrm1', format: 'vrm1', name: 'Sample VRM 1.0', mouth: ['aa', 'ih', 'ou', 'ee', 'oh'], blink: 'blinkLeft' },
  { fixture: 'vrm0', kind: 'vrm0', format: 'vrm0', name: 'Sample VRM 0.x', mouth: ['A', 'I', 'U', 'E', 'O'], blink: 'Blink_L' },
  { fixture: 'arkit', kind: 'gltf', format: 'arkit', name: 'sample-arkit', mouth: ['jawOpen', 'mouthFunnel', 'mouthPucker'], blink: 'eyeBlinkLeft' },
  { fixture: 'oculus', kind: 'gltf', format: 'oculus', name: 'sample-oculus', mouth: ['viseme_aa', 'viseme_PP', 'viseme_O'], blink: 'eyeBlinkLeft' },
];

async function avatarOnStage(page: Page): Promise<{ kind: string; name: string; format: string }> {
  return page.evaluate(() => window.avatarDiagnostics!.avatar);
}

describe('user avatars through the file picker (Chromium)', () => {
  it('loads VRM 1.0, VRM 0.x and ARKit/Oculus GLB avatars that speak, and refuses a damaged file', async () => {
    const { page, pageErrors } = await openApp(e2e);
    expect(await avatarOnStage(page)).toEqual({ kind: 'default', name: 'Default avatar', format: 'default-avatar' });
    const picker = page.getByLabel('Avatar file');

    let replies = 0;
    for (const avatar of CASES) {
      await picker.setInputFiles(fixtures[avatar.fixture]);
      await page.evaluate((name) => ((window as unknown as { wantedAvatar: string }).wantedAvatar = name), avatar.name);
      await waitForDiagnostics(e2e, page, `${avatar.fixture} on stage`, () => window.avatarDiagnostics?.avatar.name === (window as unknown as { wantedAvatar: string }).wantedAvatar);
      expect(await avatarOnStage(page)).toEqual({ kind: avatar.kind, name: avatar.name, format: avatar.format });
      const weights = await page.evaluate(() => window.avatarDiagnostics!.morphWeights);
      expect(Object.keys(weights)).toEqual(expect.arrayContaining([...avatar.mouth, avatar.blink]));
      await expect.poll(() => page.getByRole('group', { name: 'Avatar' }).textContent()).toContain(avatar.name);

      await page.evaluate(() => window.avatarLipSyncProbe!.start(8));
      await send(page, 'say: Hello, my mouth moves.');
      replies += 1;
      await waitForReplyEnd(e2e, page, replies);
      const samples: FaceSample[] = await page.evaluate(() => window.avatarLipSyncProbe!.stop());
      // The avatar's own mouth names carry the speech, on rendered frames too.
      const mouthOf = (sample: FaceSample): number => Math.max(...avatar.mouth.map((name) => sample.weights[name] ?? 0));
      const frames = samples.filter((sample) => sample.source === 'frame');
      expect(frames.length, `${avatar.fixture}: rendered frames while speaking`).toBeGreaterThan(3);
      const frameMouth = frames.map(mouthOf);
      expect(Math.max(...frameMouth), `${avatar.fixture}: mouth opens on a frame`).toBeGreaterThan(0.3);
      expect(Math.max(...samples.map(mouthOf)) - Math.min(...samples.map(mouthOf))).toBeGreaterThan(0.5);
      expect(new Set(samples.map((sample) => sample.viseme)).size).toBeGreaterThan(3);
      await page.screenshot({ path: join(screenshotDir, `avatar-${avatar.fixture}.png`) });
    }

    // A damaged file (a VRM cut short) is refused in words; the avatar on stage stays.
    const damaged = readFileSync(fixtures.vrm1).subarray(0, 4096);
    await picker.setInputFiles({ name: 'broken.vrm', mimeType: 'model/gltf-binary', buffer: damaged });
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('"broken.vrm" cannot be used as an avatar');
    expect(await page.getByRole('alert').textContent()).toContain('truncated');
    await picker.setInputFiles({ name: 'notes.glb', mimeType: 'model/gltf-binary', buffer: Buffer.from('these are not the bytes of a model') });
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('"notes.glb" cannot be used as an avatar');
    expect(await avatarOnStage(page)).toEqual({ kind: 'gltf', name: 'sample-oculus', format: 'oculus' });
    // The diagnostics follow on the next rendered frame.
    await waitForDiagnostics(e2e, page, 'both refusals', () => window.avatarDiagnostics!.errors.filter((error) => error.startsWith('model_invalid:')).length === 2);

    // Back to the built-in avatar.
    await page.getByRole('button', { name: 'Default avatar' }).click();
    await waitForDiagnostics(e2e, page, 'the default avatar', () => window.avatarDiagnostics?.avatar.kind === 'default');

    // A file dropped onto the stage loads too.
    await page.evaluate(
      async ({ base64, name }) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'model/gltf-binary' }));
        const stage = document.querySelector('.stage')!;
        stage.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        stage.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { base64: readFileSync(fixtures.arkit).toString('base64'), name: 'dropped-arkit.glb' },
    );
    await waitForDiagnostics(e2e, page, 'the dropped avatar', () => window.avatarDiagnostics?.avatar.name === 'dropped-arkit');
    expect(await avatarOnStage(page)).toEqual({ kind: 'gltf', name: 'dropped-arkit', format: 'arkit' });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
