import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import type { ScheduleRecord } from '../../app/renderer/lipsync/lipsync-probe';
import { TEST_HOOKS_PARAM } from '../../app/renderer/state/test-hooks';
import { root, waitForReplyEnd, type AvatarE2e } from '../support/avatar-e2e';
import { chromiumMissingReason, launchChromium, startServeProcess, type ServeProcess } from '../support/serve-process';

/**
 * VMC output end to end: `serve` (scripted voice with exact timings) sends OSC bundles over UDP to
 * an independent receiver in another process (python-osc), driven by the face a real Chromium page
 * computes on its audio clock. The wire timeline is judged like the lip-sync test judges the page:
 * each bundle's /VMC/Ext/T is the page's audio-clock time, the chunk's audio start on that clock
 * comes from the page's schedule of the exact phoneme timeline the engine sent in tts.chunk, and at
 * every p/b/m the mouth must be closed while the vowels next to it are open.
 */

const PYTHON = process.env.AVATAR_PYTHON ?? 'python3';
const RECEIVER = join(root, 'tests', 'support', 'vmc_receiver.py');

function pythonOscMissingReason(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import pythonosc'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `python-osc is not installed for ${PYTHON} (python3 -m pip install python-osc)`;
}

const missing = chromiumMissingReason() ?? pythonOscMissingReason();

const BILABIALS = new Set(['p', 'b', 'm']);
const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);
const REPLY = 'Papa bought a map. Mama made a mop, Bob.';
const VRM0_MOUTH = ['A', 'I', 'U', 'E', 'O'];
const VRM1_MOUTH = ['aa', 'ih', 'ou', 'ee', 'oh'];

/** One bundle as the receiver logged it. */
interface ReceivedBundle {
  receivedAt: number;
  t: number | null;
  blend: Record<string, number>;
  bones: Record<string, number[]>;
  root: Array<string | number> | null;
  ok: number[] | null;
  apply: boolean;
  error?: string;
}

interface Receiver {
  port: number;
  bundles: ReceivedBundle[];
  stop(): Promise<void>;
}

/** Starts the python-osc receiver on a free loopback port. */
function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = spawn(PYTHON, ['-u', RECEIVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  const bundles: ReceivedBundle[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('exit', (code) => reject(new Error(`the VMC receiver exited (${code}): ${stderr}`)));
    lines.on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) {
        resolve({
          port: Number(listening[1]),
          bundles,
          async stop() {
            if (child.exitCode !== null) return;
            const exited = new Promise((done) => child.once('exit', done));
            child.kill('SIGTERM');
            await exited;
          },
        });
        return;
      }
      bundles.push(JSON.parse(line) as ReceivedBundle);
    });
  });
}

interface WireChunk {
  seq: number;
  phonemes: PhonemeSpan[];
}

/** What the page's WebSocket carries: tts.chunk timelines in, vmc.pose messages out. */
function watchSocket(page: Page): { chunks: WireChunk[]; posesSent: () => number; statuses: unknown[] } {
  const chunks: WireChunk[] = [];
  const statuses: unknown[] = [];
  let poses = 0;
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') {
        if (payload.includes('"vmc.status"')) statuses.push(JSON.parse(payload));
        return;
      }
      const message = decodeBinaryFrame(new Uint8Array(payload));
      if (message.type === 'tts.chunk') chunks.push({ seq: message.seq as number, phonemes: message.phonemes as PhonemeSpan[] });
    });
    socket.on('framesent', ({ payload }) => {
      if (typeof payload === 'string' && payload.includes('"vmc.pose"')) poses += 1;
    });
  });
  return { chunks, posesSent: () => poses, statuses };
}

let browser: Browser;
const cleanups: Array<() => Promise<void> | void> = [];

async function startServe(dataDir: string, args: string[]): Promise<ServeProcess> {
  const serve = await startServeProcess('scripted', ['--data-dir', dataDir, ...args]);
  cleanups.push(() => serve.stop());
  return serve;
}

function newDataDir(settings: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'avatar-vmc-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
  return dir;
}

/** Opens the app with its test hooks and waits for a warm session. */
async function openApp(serve: ServeProcess, beforeLoad: (page: Page) => void): Promise<{ page: Page; pageErrors: string[]; e2e: AvatarE2e }> {
  const e2e: AvatarE2e = { serve, browser, close: async () => undefined };
  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  beforeLoad(page);
  const url = new URL(serve.url);
  url.searchParams.set(TEST_HOOKS_PARAM, '1');
  await page.goto(url.href);
  await page.waitForFunction(() => !!window.avatarDiagnostics?.sessionId && window.avatarDiagnostics.engineReady && window.avatarDiagnostics.frame > 2, null, {
    timeout: 120_000,
  });
  return { page, pageErrors, e2e };
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
}

/** Bundles whose /VMC/Ext/T lies inside [fromSec, toSec]. */
function bundlesIn(bundles: readonly ReceivedBundle[], fromSec: number, toSec: number): ReceivedBundle[] {
  return bundles.filter((bundle) => bundle.t !== null && bundle.t >= fromSec && bundle.t <= toSec);
}

const mouthOpen = (bundle: ReceivedBundle, names: readonly string[]): number => names.reduce((sum, name) => sum + (bundle.blend[name] ?? 0), 0);

beforeAll(async () => {
  if (missing) return;
  browser = await launchChromium();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await browser?.close();
});

describe.skipIf(missing !== null)(`VMC output to a python-osc receiver (Chromium, scripted voice)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('streams ≥ 25 bundles/s during a reply with lips closed on every p, b, m and open on the vowels around, blinks, VRM 0.x names', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.stop());
    // The setting chooses VRM 0.x names (output off); --vmc-out turns it on for this run.
    const dataDir = newDataDir({ vad: {}, poolSizes: {}, models: {}, vmc: { enabled: false, host: '127.0.0.1', port: 39539, naming: 'vrm0' } });
    const serve = await startServe(dataDir, ['--vmc-out', `127.0.0.1:${receiver.port}`]);
    expect(serve.output()).toContain(`VMC output (vrm0 names, --vmc-out): udp://127.0.0.1:${receiver.port}`);

    let wire!: ReturnType<typeof watchSocket>;
    const { page, pageErrors, e2e } = await openApp(serve, (p) => (wire = watchSocket(p)));
    expect(wire.statuses.at(-1)).toMatchObject({ type: 'vmc.status', enabled: true, naming: 'vrm0', source: 'flag' });
    await say(page, `say: ${REPLY}`);
    await waitForReplyEnd(e2e, page, 1);
    const schedules: ScheduleRecord[] = await page.evaluate(() => window.avatarLipSyncProbe!.schedules());
    // Idle blinks come every few seconds: wait for one if the reply was quicker.
    await expect.poll(() => receiver.bundles.some((bundle) => (bundle.blend.Blink_L ?? 0) > 0.9 && (bundle.blend.Blink_R ?? 0) > 0.9), { timeout: 15_000 }).toBe(true);

    const bundles = receiver.bundles;
    expect(bundles.filter((bundle) => bundle.error)).toEqual([]);
    expect(wire.posesSent()).toBeGreaterThan(0);
    // Every bundle is a whole VMC frame under VRM 0.x names.
    for (const bundle of bundles) {
      expect(bundle.ok).toEqual([1, 3, 0, 1]);
      expect(bundle.apply).toBe(true);
      expect(bundle.root?.[0]).toBe('root');
      expect(Object.keys(bundle.bones).sort()).toEqual(['Head', 'LeftEye', 'Neck', 'RightEye']);
      expect(Object.keys(bundle.blend).sort()).toEqual(['A', 'Angry', 'Blink_L', 'Blink_R', 'E', 'Fun', 'I', 'Joy', 'O', 'Sorrow', 'U']);
    }

    // The reply's chunks on the page's audio clock.
    expect(wire.chunks.length).toBeGreaterThan(0);
    const timeline = wire.chunks
      .sort((a, b) => a.seq - b.seq)
      .map((chunk) => {
        const schedule = schedules.find((record) => JSON.stringify(record.phonemes) === JSON.stringify(chunk.phonemes));
        expect(schedule, `chunk ${chunk.seq} was scheduled for playback`).toBeDefined();
        return { chunk, startSec: schedule!.startSec };
      });
    const replyStartSec = timeline[0]!.startSec;
    const last = timeline.at(-1)!;
    const replyEndSec = last.startSec + last.chunk.phonemes.at(-1)!.endMs / 1000;
    const during = bundlesIn(bundles, replyStartSec, replyEndSec);
    const perSecond = during.length / (replyEndSec - replyStartSec);
    const wallSec = during.at(-1)!.receivedAt - during[0]!.receivedAt;
    console.log(`VMC: ${during.length} bundles in ${(replyEndSec - replyStartSec).toFixed(2)} s of reply (${perSecond.toFixed(1)}/s; ${(during.length / wallSec).toFixed(1)}/s by arrival)`);
    expect(perSecond).toBeGreaterThanOrEqual(25);
    expect(during.length / wallSec).toBeGreaterThanOrEqual(25);

    let bilabials = 0;
    let covered = 0;
    const failures: string[] = [];
    for (const { chunk, startSec } of timeline) {
      chunk.phonemes.forEach((span, index) => {
        if (!BILABIALS.has(span.phoneme)) return;
        bilabials += 1;
        // The middle of the closure (coarticulation blends the edges).
        const quarterMs = (span.endMs - span.startMs) / 4;
        const inside = bundlesIn(bundles, startSec + (span.startMs + quarterMs) / 1000, startSec + (span.endMs - quarterMs) / 1000);
        if (inside.length === 0) return;
        covered += 1;
        for (const bundle of inside) {
          const open = mouthOpen(bundle, VRM0_MOUTH);
          if (open > 0.15) failures.push(`${span.phoneme}@${span.startMs}ms: vowels ${open.toFixed(3)} at T ${bundle.t}`);
        }
        for (const neighbour of [chunk.phonemes[index - 1], chunk.phonemes[index + 1]]) {
          if (!neighbour || !VOWELS.has(neighbour.phoneme)) continue;
          const middleSec = startSec + (neighbour.startMs + neighbour.endMs) / 2000;
          for (const bundle of bundlesIn(bundles, middleSec - 0.012, middleSec + 0.012)) {
            const open = mouthOpen(bundle, VRM0_MOUTH);
            if (open < 0.25) failures.push(`vowel ${neighbour.phoneme}@${neighbour.startMs}ms next to ${span.phoneme}: vowels ${open.toFixed(3)} at T ${bundle.t}`);
          }
        }
      });
    }
    // "Papa bought a map. Mama made a mop, Bob." has 13 bilabials; nearly all must be seen on the wire.
    expect(bilabials).toBeGreaterThanOrEqual(12);
    expect(covered / bilabials).toBeGreaterThanOrEqual(0.8);
    expect(failures).toEqual([]);
    // VRM 1.0 names never appear under the VRM 0.x setting.
    expect(bundles.some((bundle) => VRM1_MOUTH.some((name) => name in bundle.blend))).toBe(false);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('sends nothing, from the page or the engine, while VMC output is off (the default)', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.stop());
    // The setting names the receiver's port but stays off.
    const dataDir = newDataDir({ vad: {}, poolSizes: {}, models: {}, vmc: { enabled: false, host: '127.0.0.1', port: receiver.port, naming: 'vrm1' } });
    const serve = await startServe(dataDir, []);
    let wire!: ReturnType<typeof watchSocket>;
    const { page, pageErrors, e2e } = await openApp(serve, (p) => (wire = watchSocket(p)));
    expect(wire.statuses.at(-1)).toMatchObject({ type: 'vmc.status', enabled: false, source: 'settings' });
    await say(page, `say: ${REPLY}`);
    await waitForReplyEnd(e2e, page, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(wire.posesSent()).toBe(0);
    expect(receiver.bundles).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
