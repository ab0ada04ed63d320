import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { fakeCameraArgs, fakeCameraMissingReason, makeFakeCameraClip } from '../tests/support/fake-camera';
import { fakeMicrophoneArgs, launchChromium } from '../tests/support/serve-process';
import { quantile, round3, type Benchmark, type BenchResult } from './bench-api';
import { startBrowserSession, type BrowserSession } from './browser-session';
import { writeMicFile } from './mic-file';

/**
 * `npm run bench -- vision [--frames 12] [--runs 6] [--backends cpu,webgl,wasm] [--profile dev|scripted]`:
 * the camera's perception loop in headless Chromium on a fake camera (a face from a photo in
 * @vladmandic/human, made with ffmpeg). Per backend: model load, time per detection, the rate the
 * adaptive loop reaches, and the CPU it takes (Chromium's processes with the loop on minus off).
 * Then, in the same run, questions answered with the loop off and on, interleaved: typed and pasted
 * (`first_audio_with_vision_ratio`, on / off, p50 of LLM request → first TTS audio), and spoken into
 * a fake microphone (`first_audio_spoken_with_vision_ratio`, p50 of speech end → first TTS audio, the
 * `e2e_cpu` measure; `--spoken 0` leaves it out).
 */

type Diagnostics = {
  vision: {
    status: string;
    backend: string | null;
    loadMs: number | null;
    framesProcessed: number;
    lastDetectMs: number | null;
    lastStageMs: { face?: number; hands?: number } | null;
    holds: number;
    framesCut: number;
  };
  state: string;
};

const CLOCK_TICKS_PER_SEC = 100;

/** CPU seconds used so far by the Chromium started with `marker` in its command line and all its descendants. */
function chromiumCpuSec(marker: string): number {
  const stats = new Map<number, { ppid: number; ticks: number; cmdline: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  const roots = [...stats].filter(([, stat]) => stat.cmdline.includes(marker) && !stats.get(stat.ppid)?.cmdline.includes(marker)).map(([pid]) => pid);
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid; current && current > 1; current = stats.get(current)?.ppid) if (roots.includes(current)) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, stat] of stats) if (inTree(pid)) ticks += stat.ticks;
  return ticks / CLOCK_TICKS_PER_SEC;
}

const diagnosticsOf = (page: Page): Promise<Diagnostics> =>
  page.evaluate(() => {
    const d = (window as unknown as { avatarDiagnostics: Diagnostics }).avatarDiagnostics;
    return { vision: d.vision, state: d.state };
  });

async function openPage(session: BrowserSession, query: Record<string, string>): Promise<Page> {
  const page = await session.browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
  const url = new URL(session.url);
  url.searchParams.set('conversation', 'none');
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  await page.goto(url.href);
  await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { engineReady?: boolean; sessionId?: string } }).avatarDiagnostics?.engineReady === true, null, { timeout: 180_000 });
  return page;
}

/** Turns the camera on and waits for the models (or their failure). */
async function cameraOn(page: Page): Promise<string | null> {
  await page.getByRole('button', { name: 'Camera off' }).click();
  await page.waitForFunction(
    () => {
      const vision = (window as unknown as { avatarDiagnostics: Diagnostics }).avatarDiagnostics.vision;
      return vision.status === 'error' || (vision.status === 'ready' && vision.framesProcessed > 0);
    },
    null,
    { timeout: 300_000, polling: 200 },
  );
  const error = await page.locator('.camera-error').textContent().catch(() => null);
  return (await diagnosticsOf(page)).vision.status === 'ready' ? null : (error ?? 'unknown error');
}

/** Detection times (whole and per stage) of the next `frames` frames, the wall time they took and Chromium's CPU seconds meanwhile. */
async function sampleFrames(page: Page, frames: number, marker: string): Promise<{ detectMs: number[]; faceMs: number[]; handsMs: number[]; wallSec: number; cpuSec: number }> {
  const detectMs: number[] = [];
  const faceMs: number[] = [];
  const handsMs: number[] = [];
  let seen = (await diagnosticsOf(page)).vision.framesProcessed;
  const startMs = performance.now();
  const cpuStart = chromiumCpuSec(marker);
  while (detectMs.length < frames) {
    await page.waitForTimeout(50);
    const { vision } = await diagnosticsOf(page);
    if (vision.framesProcessed > seen && vision.lastDetectMs !== null) {
      detectMs.push(vision.lastDetectMs);
      if (vision.lastStageMs?.face !== undefined) faceMs.push(vision.lastStageMs.face);
      if (vision.lastStageMs?.hands !== undefined) handsMs.push(vision.lastStageMs.hands);
    }
    seen = vision.framesProcessed;
  }
  return { detectMs, faceMs, handsMs, wallSec: (performance.now() - startMs) / 1000, cpuSec: chromiumCpuSec(marker) - cpuStart };
}

/** Chromium's CPU seconds per wall second over `seconds` with the page as it is. */
async function idleCpuRate(page: Page, seconds: number, marker: string): Promise<number> {
  const cpuStart = chromiumCpuSec(marker);
  const startMs = performance.now();
  await page.waitForTimeout(seconds * 1000);
  return (chromiumCpuSec(marker) - cpuStart) / ((performance.now() - startMs) / 1000);
}

/**
 * How a question gets into the message box: `keys` at a fast typist's pace (the loop holds from the
 * first keystroke, as with a person typing), `paste` all at once and sent at once (the worst case:
 * a detection stage may still be running as the question goes).
 */
type Entry = 'keys' | 'paste';
/** Between keystrokes: 600 characters (120 words) a minute, a fast typist. */
const KEYSTROKE_MS = 100;

/** Asks one question and returns LLM request → first TTS audio from the turn's trace. */
async function firstAudioMs(page: Page, question: string, replies: number, entry: Entry): Promise<number> {
  const input = page.getByLabel('Message');
  if (entry === 'keys') await input.pressSequentially(question, { delay: KEYSTROKE_MS });
  else await input.fill(question);
  await input.press('Enter');
  await page.waitForFunction(
    (count) => {
      const d = (window as unknown as { avatarDiagnostics: { state: string; transcript: { role: string }[]; lastTurn: { ttsFirstAudioMs?: number } | null } }).avatarDiagnostics;
      return d.state === 'idle' && d.transcript.filter((entry) => entry.role === 'avatar').length >= count && d.lastTurn?.ttsFirstAudioMs !== undefined;
    },
    replies,
    { timeout: 180_000, polling: 100 },
  );
  return page.evaluate(() => {
    const trace = (window as unknown as { avatarDiagnostics: { lastTurn: { llmRequestMs: number; ttsFirstAudioMs: number } } }).avatarDiagnostics.lastTurn;
    return trace.ttsFirstAudioMs - trace.llmRequestMs;
  });
}

/** Silence after each spoken question on the microphone loop: room for the reply and a camera switch. */
const SPOKEN_GAP_SEC = 24;
/** Spoken questions on the loop: an odd count, so the camera (on for every other turn) meets each one both ways. */
const SPOKEN_QUESTIONS = 5;

/** The fake microphone's loop: each question after a second of silence, then `SPOKEN_GAP_SEC` of silence. */
async function spokenLoopWav(path: string, questions: readonly string[]): Promise<void> {
  await writeMicFile(path, questions.flatMap((text) => [{ silenceSec: 1 }, { text }, { silenceSec: SPOKEN_GAP_SEC }]));
}

/** Waits for the reply to the next spoken question and returns speech end → first TTS audio. */
async function nextSpokenFirstAudioMs(page: Page, replies: number): Promise<number> {
  await page.waitForFunction(
    (count) => {
      const d = (window as unknown as { avatarDiagnostics: { state: string; transcript: { role: string }[]; lastTurn: { speechEndMs?: number; ttsFirstAudioMs?: number } | null } }).avatarDiagnostics;
      return d.state === 'idle' && d.transcript.filter((entry) => entry.role === 'avatar').length >= count && d.lastTurn?.speechEndMs !== undefined && d.lastTurn.ttsFirstAudioMs !== undefined;
    },
    replies,
    { timeout: (SPOKEN_GAP_SEC + 60) * 1000 * 2, polling: 100 },
  );
  return page.evaluate(() => {
    const trace = (window as unknown as { avatarDiagnostics: { lastTurn: { speechEndMs: number; ttsFirstAudioMs: number } } }).avatarDiagnostics.lastTurn;
    return trace.ttsFirstAudioMs - trace.speechEndMs;
  });
}

const QUESTIONS = ['Hello, who are you?', 'What is the capital of France?', 'How many legs does a spider have?', 'Why do cats purr?', 'What is two plus two?', 'What color is the sky?'];

const bench: Benchmark = {
  name: 'vision',
  description: 'camera perception loop: detect ms per backend, loop fps, CPU share, first audio with the loop on vs off',
  async run(options): Promise<BenchResult> {
    const missing = fakeCameraMissingReason();
    if (missing) throw new Error(missing);
    const frames = Number(options.frames ?? 12);
    const runs = Number(options.runs ?? 6);
    const backends = (options.backends ?? 'cpu,webgl,wasm').split(',');
    const profile = options.profile ?? ((await devModelsOrSkipReason()).ok ? 'dev' : 'scripted');
    const dir = mkdtempSync(join(tmpdir(), 'vision-bench-'));
    const clip = join(dir, 'camera-face.y4m');
    makeFakeCameraClip(clip, [{ scene: 'face-left', seconds: 20 }]);
    const loadBefore = loadavg()[0]!;
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    const session = await startBrowserSession(profile, fakeCameraArgs(clip));
    try {
      for (const backend of backends) {
        const page = await openPage(session, { visionBackend: backend });
        const offRate = await idleCpuRate(page, 5, clip);
        const error = await cameraOn(page);
        if (error) {
          notes.push(`${backend}: not available here (${error})`);
          await page.close();
          continue;
        }
        const { vision } = await diagnosticsOf(page);
        const sample = await sampleFrames(page, frames, clip);
        metrics[`${backend}_load_ms`] = vision.loadMs ?? Number.NaN;
        metrics[`${backend}_detect_ms_p50`] = round3(quantile(sample.detectMs, 0.5));
        metrics[`${backend}_detect_ms_p95`] = round3(quantile(sample.detectMs, 0.95));
        // The stages a hold can cut between: the longest one bounds how long a detection runs on after a turn begins.
        if (sample.faceMs.length > 0) metrics[`${backend}_face_stage_ms_p50`] = round3(quantile(sample.faceMs, 0.5));
        if (sample.handsMs.length > 0) metrics[`${backend}_hands_stage_ms_p50`] = round3(quantile(sample.handsMs, 0.5));
        metrics[`${backend}_vision_fps_p50`] = round3(frames / sample.wallSec);
        metrics[`${backend}_vision_cpu_share_ratio`] = round3(sample.cpuSec / sample.wallSec - offRate);
        metrics[`${backend}_vision_busy_ratio`] = round3(sample.detectMs.reduce((sum, ms) => sum + ms, 0) / 1000 / sample.wallSec);
        notes.push(`${backend}: backend in use "${vision.backend}", Chromium ${offRate.toFixed(2)} CPU s/s with the camera off, ${(sample.cpuSec / sample.wallSec).toFixed(2)} with the loop on`);
        await page.close();
      }

      // First audio with the loop running vs not: one page, questions interleaved (camera off, on, off, …),
      // each time one typed and one pasted.
      const page = await openPage(session, {});
      const times: Record<Entry, { off: number[]; on: number[] }> = { keys: { off: [], on: [] }, paste: { off: [], on: [] } };
      let replies = 0;
      let cameraReady = false;
      for (let i = 0; i < runs * 2; i++) {
        const withVision = i % 2 === 1;
        if (withVision && !cameraReady) {
          const error = await cameraOn(page);
          if (error) throw new Error(`camera: ${error}`);
          cameraReady = true;
        } else if (withVision) await page.getByRole('button', { name: 'Camera off' }).click();
        else if (cameraReady) await page.getByRole('button', { name: 'Camera on' }).click();
        if (withVision) await page.waitForTimeout(1000);
        for (const [at, entry] of (['keys', 'paste'] as const).entries()) {
          const question = QUESTIONS[(Math.floor(i / 2) * 2 + at) % QUESTIONS.length]!;
          times[entry][withVision ? 'on' : 'off'].push(await firstAudioMs(page, question, ++replies, entry));
        }
      }
      for (const [entry, prefix] of [['keys', 'first_audio'], ['paste', 'first_audio_pasted']] as const) {
        const { off, on } = times[entry];
        metrics[`${prefix}_ms_p50`] = round3(quantile(off, 0.5));
        metrics[`${prefix}_with_vision_ms_p50`] = round3(quantile(on, 0.5));
        metrics[`${prefix}_with_vision_ratio`] = round3(quantile(on, 0.5) / quantile(off, 0.5));
      }
      const { vision: held } = await diagnosticsOf(page);
      metrics.vision_holds = held.holds;
      metrics.vision_frames_cut = held.framesCut;
      await page.close();

      if (options.spoken !== '0') {
        // Spoken: a second Chromium whose fake microphone loops the questions, on the same engine.
        const wav = join(dir, 'questions.wav');
        await spokenLoopWav(wav, QUESTIONS.slice(0, SPOKEN_QUESTIONS));
        const browser = await launchChromium([...fakeCameraArgs(clip), ...fakeMicrophoneArgs(wav)]);
        try {
          const spoken = await openPage({ ...session, browser }, { mic: '1' });
          const off: number[] = [];
          const on: number[] = [];
          // The first reply warms the session up and is left out.
          await nextSpokenFirstAudioMs(spoken, 1);
          let cameraOnNow = false;
          for (let i = 0; i < runs * 2; i++) {
            const withVision = i % 2 === 1;
            if (withVision && !cameraOnNow) {
              if (i === 1) {
                const error = await cameraOn(spoken);
                if (error) throw new Error(`camera: ${error}`);
              } else await spoken.getByRole('button', { name: 'Camera off' }).click();
            } else if (!withVision && cameraOnNow) await spoken.getByRole('button', { name: 'Camera on' }).click();
            cameraOnNow = withVision;
            (withVision ? on : off).push(await nextSpokenFirstAudioMs(spoken, i + 2));
          }
          metrics.first_audio_spoken_ms_p50 = round3(quantile(off, 0.5));
          metrics.first_audio_spoken_with_vision_ms_p50 = round3(quantile(on, 0.5));
          metrics.first_audio_spoken_with_vision_ratio = round3(quantile(on, 0.5) / quantile(off, 0.5));
          metrics.first_audio_spoken_ms_p95 = round3(quantile(off, 0.95));
          metrics.first_audio_spoken_with_vision_ms_p95 = round3(quantile(on, 0.95));
          const { vision: spokenHeld } = await diagnosticsOf(spoken);
          metrics.spoken_vision_holds = spokenHeld.holds;
          metrics.spoken_vision_frames_cut = spokenHeld.framesCut;
        } finally {
          await browser.close();
        }
      }
    } finally {
      await session.close();
      rmSync(dir, { recursive: true, force: true });
    }
    metrics.load_average_1m = round3((loadBefore + loadavg()[0]!) / 2);
    notes.push(
      'detect = one frame in the perception worker, in stages: face (detector, mesh, iris, emotion), then hands (while someone is in view or the avatar speaks); a turn holds the loop from typing or speech until first audio and drops the stages not yet run (vision_holds, vision_frames_cut over the first-audio runs); vision_fps = frames analysed per second by the adaptive loop (idle)',
      'vision_cpu_share = Chromium CPU seconds per second with the loop on minus with the camera off (1 = one core; meaningless when other processes saturate the cores: see load_average_1m); vision_busy = share of the time the worker spent detecting',
      `first_audio = LLM request → first TTS audio of questions typed at ${60_000 / KEYSTROKE_MS / 5} words a minute (a keystroke every ${KEYSTROKE_MS} ms) (${profile} profile), ${runs} with the camera off and ${runs} on, interleaved; first_audio_pasted: the same with each question pasted and sent at once (before 2026-12-06 the only kind, reported as first_audio)`,
      'load_average_1m: other processes on this machine share the cores; compare ratios from one run',
      ...(options.spoken !== '0'
        ? [`first_audio_spoken = speech end → first TTS audio (the e2e_cpu measure) of ${SPOKEN_QUESTIONS} questions (eSpeak NG) looped on a fake microphone, ${SPOKEN_GAP_SEC} s apart, in a second Chromium on the same engine; ${runs} turns with the camera off and ${runs} on, alternating, after one warm-up turn`]
        : []),
    );
    return { models: { vision: '@vladmandic/human 3.3.6 (blazeface, facemesh, iris, emotion, handtrack, handlandmark-lite)', engine: profile }, runs, metrics, notes };
  },
};

export default bench;
