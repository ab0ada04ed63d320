import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { fakeMicrophoneArgs } from '../tests/support/serve-process';
import { launchShareBrowser, openViewer, startShareServe, type ShareServe } from '../tests/support/share-session';
import { quantile, round3 } from './bench-api';
import { writeMicFile } from './mic-file';
import { commandLine, fdCount, growthPerHour, InspectorProbe, inspectorUrls, rssMb, runtimeHostsOf, servePidOf } from './process-probes';

/**
 * The soak: real spoken conversations, continuously, through `serve` in Chromium. The fake
 * microphone loops two questions (eSpeak NG) with room for each reply. Now and then, while the
 * avatar speaks, the page's microphone is turned off and on again: Chromium restarts the file, so
 * the first question is spoken over the reply (a barge-in, whatever the machine's latency). The
 * sharing page is reloaded now and then (it picks up the kept conversation) and share viewers join
 * and leave. Meanwhile the engine, each runtime
 * host and the page are sampled: resident memory and open files from /proc, V8 heaps after a full
 * GC over the inspector (`NODE_OPTIONS=--inspect=127.0.0.1:0` on the host) and over CDP for the
 * page. Growth is a least-squares fit over the samples after the warm-up, per hour.
 */

/** Questions on the fake microphone's loop: seconds of silence before each. */
const LOOP: ReadonlyArray<{ leadSec: number; text: string }> = [
  { leadSec: 1, text: 'What is the capital of France?' },
  { leadSec: 20, text: 'Please tell me a long story about a dragon and a knight.' },
];
const TAIL_SEC = 20;

export interface SoakOptions {
  minutes: number;
  /** `dev` (the development models) when present unless told; otherwise `scripted`. */
  profile?: 'dev' | 'scripted';
  sampleEverySec?: number;
  /** Samples before this are left out of the growth fits (default: a fifth of the run, at most 5 min). */
  warmUpSec?: number;
  reloadEverySec?: number;
  viewerEverySec?: number;
  bargeInEverySec?: number;
  /** Writes every sampled series (time in s since the start, value) to this JSON file, to plot or read. */
  seriesFile?: string;
  log?: (line: string) => void;
}

export interface SoakResult {
  profile: string;
  metrics: Record<string, number>;
  /** What went wrong, one line each (as many lines as `errors`). */
  errors: string[];
  notes: string[];
}

interface Series {
  atMs: number;
  value: number;
}

interface TurnRecord {
  turnId: string;
  atMs: number;
  status: string;
  firstAudioMs?: number;
}

/** The looped microphone file. */
async function loopWav(dir: string): Promise<{ path: string; loopSec: number }> {
  const path = join(dir, 'soak-loop.wav');
  const segments = LOOP.flatMap(({ leadSec, text }) => [{ silenceSec: leadSec }, { text }]);
  const loopSec = await writeMicFile(path, [...segments, { silenceSec: TAIL_SEC }]);
  return { path, loopSec };
}

/** Everything the soak watches and counts while it runs. */
class SoakRecorder {
  readonly series = new Map<string, Series[]>();
  readonly turns: TurnRecord[] = [];
  readonly errors: string[] = [];
  readonly workerIds = new Set<string>();
  baselineWorkers: Set<string> | undefined;
  private readonly probes = new Map<string, { probe: InspectorProbe; pid: number } | null>();
  private readonly startMs = performance.now();

  constructor(private readonly log: (line: string) => void) {}

  elapsedMs(): number {
    return performance.now() - this.startMs;
  }

  add(name: string, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const list = this.series.get(name) ?? [];
    list.push({ atMs: this.elapsedMs(), value });
    this.series.set(name, list);
  }

  error(line: string): void {
    this.errors.push(`${Math.round(this.elapsedMs() / 1000)} s: ${line}`);
    this.log(`error: ${line}`);
  }

  /** Records the engine's messages on every /ws socket of `page` (one per load). */
  watch(page: Page, label: string): void {
    page.on('pageerror', (error) => this.error(`${label} page error: ${error.message}`));
    page.on('websocket', (socket) => {
      if (!new URL(socket.url()).pathname.endsWith('/ws')) return;
      socket.on('framereceived', ({ payload }) => {
        if (typeof payload !== 'string') return;
        const message = JSON.parse(payload) as Record<string, unknown>;
        this.onMessage(message);
      });
    });
  }

  private onMessage(message: Record<string, unknown>): void {
    switch (message.type) {
      case 'turn.trace': {
        const trace = message.trace as { turnId: string; source?: string; speechEndMs?: number; firstAudioAudibleMs?: number };
        // The trace follows its turn.ended.
        const turn = this.turns.find((record) => record.turnId === trace.turnId);
        if (turn && trace.source === 'voice' && trace.speechEndMs !== undefined && trace.firstAudioAudibleMs !== undefined) {
          turn.firstAudioMs = trace.firstAudioAudibleMs - trace.speechEndMs;
        }
        return;
      }
      case 'turn.ended': {
        const turnId = message.turnId as string;
        const record: TurnRecord = { turnId, atMs: this.elapsedMs(), status: message.status as string };
        this.turns.push(record);
        this.log(`turn ${this.turns.length} ${record.status}: ${JSON.stringify(String(message.replyText ?? '').slice(0, 60))}`);
        if (record.status === 'failed') this.error(`turn ${turnId} failed`);
        return;
      }
      case 'error':
        this.error(`engine error ${String(message.code)}: ${String(message.message)}`);
        return;
      case 'engine.status': {
        const workers = message.workers as Array<{ workerId: string }>;
        for (const worker of workers) this.workerIds.add(worker.workerId);
        if (message.ready === true && !this.baselineWorkers) this.baselineWorkers = new Set(workers.map((worker) => worker.workerId));
        return;
      }
    }
  }

  /** Workers that started after the engine was first ready: each replaced a crashed, hung or bloated one. */
  workerRestarts(): number {
    if (!this.baselineWorkers) return 0;
    return [...this.workerIds].filter((id) => !this.baselineWorkers!.has(id)).length;
  }

  /** Samples the engine (the serve wrapper's Node child), its runtime hosts and the page. */
  async sample(serve: ShareServe, pageCdp: CDPSession | undefined): Promise<void> {
    const engine = servePidOf(serve.child.pid!);
    if (engine === undefined) {
      this.error('the engine process is gone');
      return;
    }
    const roles = new Map<number, string>([[engine, 'engine']]);
    for (const [pid, name] of runtimeHostsOf(engine)) roles.set(pid, `host_${name.replace(/[^a-z0-9]+/gi, '_')}`);
    for (const [pid, role] of roles) {
      this.add(`${role}_rss_mb`, rssMb(pid));
      this.add(`${role}_anon_mb`, rssMb(pid, 'RssAnon'));
      this.add(`${role}_fd`, fdCount(pid));
    }
    for (const url of inspectorUrls(serve.output())) {
      if (this.probes.has(url)) continue;
      try {
        const probe = await InspectorProbe.connect(url);
        this.probes.set(url, { probe, pid: await probe.pid() });
      } catch {
        // A process that printed its inspector and exited since (a restarted host, the build).
        this.probes.set(url, null);
      }
    }
    for (const [url, entry] of this.probes) {
      if (!entry) continue;
      const role = roles.get(entry.pid);
      if (!role || !entry.probe.open) {
        if (!entry.probe.open || commandLine(entry.pid).length === 0) {
          entry.probe.close();
          this.probes.set(url, null);
        }
        continue;
      }
      this.add(`${role}_heap_mb`, await entry.probe.heapMbAfterGc().catch(() => undefined));
      if (role === 'engine') continue;
      const workers = await entry.probe.workerMemory().catch(() => undefined);
      if (workers && workers.workers > 0) {
        this.add(`${role}_worker_heap_mb`, workers.heapMb);
        this.add(`${role}_worker_external_mb`, workers.externalMb);
      }
    }
    if (pageCdp) {
      const heap = await pageHeapMb(pageCdp).catch(() => undefined);
      this.add('page_heap_mb', heap);
    }
  }

  close(): void {
    for (const entry of this.probes.values()) entry?.probe.close();
  }
}

async function pageHeapMb(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  return usage.usedSize / (1024 * 1024);
}

async function waitUntil(page: Page, what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(predicate, null, { timeout: timeoutMs, polling: 250 });
  } catch (error) {
    throw new Error(`timed out waiting for ${what}`, { cause: error });
  }
}

const engineReady = (): boolean => (window as unknown as { avatarDiagnostics?: { engineReady?: boolean } }).avatarDiagnostics?.engineReady === true;
const viewerPlaying = (): boolean =>
  (window as unknown as { avatarViewerStatus?: { state: string } }).avatarViewerStatus?.state === 'playing' && (document.querySelector('video')?.videoWidth ?? 0) > 0;

const speaking = (): boolean => (window as unknown as { avatarDiagnostics?: { state?: string } }).avatarDiagnostics?.state === 'speaking';
const micActive = (): boolean => (window as unknown as { avatarDiagnostics?: { mic?: { active?: boolean } } }).avatarDiagnostics?.mic?.active === true;
const micOff = (): boolean => (window as unknown as { avatarDiagnostics?: { mic?: { active?: boolean } } }).avatarDiagnostics?.mic?.active === false;

/**
 * Once the avatar speaks, the microphone goes off and on (M, M): the fake device restarts its file
 * and the first question comes over the reply. False when the avatar did not speak within a while.
 */
async function bargeIn(page: Page): Promise<boolean> {
  try {
    await waitUntil(page, 'the avatar to speak', speaking, 60_000);
  } catch {
    return false;
  }
  await page.locator('body').press('m');
  await waitUntil(page, 'the microphone to stop', micOff, 10_000);
  await page.locator('body').press('m');
  await waitUntil(page, 'the microphone to start', micActive, 10_000);
  return true;
}

/** A viewer joins the share, watches for `watchMs`, and leaves. */
async function viewerVisit(browser: Browser, serve: ShareServe, recorder: SoakRecorder, watchMs: number): Promise<boolean> {
  const viewer = await openViewer(browser, serve);
  viewer.on('pageerror', (error) => recorder.error(`viewer page error: ${error.message}`));
  try {
    await waitUntil(viewer, 'the viewer to play', viewerPlaying, 45_000);
    await viewer.waitForTimeout(watchMs);
    return true;
  } catch (error) {
    recorder.error(`a share viewer did not play: ${(error as Error).message}`);
    return false;
  } finally {
    await viewer.close();
  }
}

function p50(values: number[]): number {
  return values.length > 0 ? round3(quantile(values, 0.5)) : Number.NaN;
}

/** Runs the soak for `options.minutes` and reports what it counted and measured. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const durationMs = options.minutes * 60_000;
  const sampleEveryMs = (options.sampleEverySec ?? 15) * 1000;
  const warmUpMs = (options.warmUpSec ?? Math.min(300, options.minutes * 12)) * 1000;
  const reloadEveryMs = (options.reloadEverySec ?? 120) * 1000;
  const viewerEveryMs = (options.viewerEverySec ?? 70) * 1000;
  const bargeInEveryMs = (options.bargeInEverySec ?? 60) * 1000;
  const profile = options.profile ?? ((await devModelsOrSkipReason()).ok ? 'dev' : 'scripted');

  const dir = mkdtempSync(join(tmpdir(), 'avatar-soak-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  // The shipped defaults, never the settings of whoever runs the soak.
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ vad: {}, poolSizes: {}, models: {} }));
  const { path: wav, loopSec } = await loopWav(dir);
  const serve = await startShareServe(profile, ['--data-dir', dataDir], { env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim() } });
  const browser = await launchShareBrowser(fakeMicrophoneArgs(wav));
  const recorder = new SoakRecorder(log);
  let reloads = 0;
  let viewerJoins = 0;
  let bargeInAttempts = 0;
  try {
    for (let waited = 0; !/Engine ready/.test(serve.output()); waited += 500) {
      if (waited > 240_000) throw new Error(`the engine did not get ready:\n${serve.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const page = await browser.newPage({ viewport: { width: 960, height: 600 } });
    await page.addInitScript({ content: 'window.__name = (fn) => fn;' });
    recorder.watch(page, 'app');
    const cdp = await page.context().newCDPSession(page);
    await page.goto(`${serve.url.href}&share=1&mic=1`);
    await waitUntil(page, 'the engine on the page', engineReady, 120_000);
    log(`soak: ${profile} profile, ${options.minutes} min, loop ${loopSec.toFixed(1)} s`);

    let nextSampleMs = 0;
    let nextReloadMs = reloadEveryMs;
    let nextViewerMs = viewerEveryMs / 2;
    let nextBargeInMs = bargeInEveryMs / 2;
    while (recorder.elapsedMs() < durationMs) {
      const nowMs = recorder.elapsedMs();
      if (nowMs >= nextSampleMs) {
        await recorder.sample(serve, cdp);
        nextSampleMs = nowMs + sampleEveryMs;
      } else if (nowMs >= nextReloadMs && durationMs - nowMs > 30_000) {
        log('soak: reloading the page');
        await page.reload();
        await waitUntil(page, 'the engine after a reload', engineReady, 120_000).catch((error: Error) => recorder.error(error.message));
        reloads += 1;
        nextReloadMs = recorder.elapsedMs() + reloadEveryMs;
      } else if (nowMs >= nextViewerMs && durationMs - nowMs > 30_000) {
        log('soak: a viewer joins');
        if (await viewerVisit(browser, serve, recorder, 8000)) viewerJoins += 1;
        nextViewerMs = recorder.elapsedMs() + viewerEveryMs;
      } else if (nowMs >= nextBargeInMs && durationMs - nowMs > 30_000) {
        log('soak: speaking over the reply');
        if (await bargeIn(page).catch((error: Error) => recorder.error(`barge-in: ${error.message}`))) bargeInAttempts += 1;
        nextBargeInMs = recorder.elapsedMs() + bargeInEveryMs;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    await recorder.sample(serve, cdp);
    await page.close();
  } finally {
    recorder.close();
    await browser.close();
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const hostRestarts = [...serve.output().matchAll(/runtime host "[^"]+" .*restarting in/g)].length;
  const answered = recorder.turns.filter((turn) => turn.status === 'complete' || turn.status === 'interrupted');
  const timed = recorder.turns.filter((turn) => turn.firstAudioMs !== undefined).slice(1);
  const third = Math.max(1, Math.floor(timed.length / 3));
  const startP50 = p50(timed.slice(0, third).map((turn) => turn.firstAudioMs!));
  const endP50 = p50(timed.slice(-third).map((turn) => turn.firstAudioMs!));
  const metrics: Record<string, number> = {
    duration_min: round3(recorder.elapsedMs() / 60_000),
    turns: answered.length,
    turns_complete: recorder.turns.filter((turn) => turn.status === 'complete').length,
    barge_in_attempts: bargeInAttempts,
    barge_ins: recorder.turns.filter((turn) => turn.status === 'interrupted').length,
    turns_empty: recorder.turns.filter((turn) => turn.status === 'empty').length,
    errors: recorder.errors.length,
    worker_restarts: Math.max(recorder.workerRestarts(), hostRestarts),
    host_restarts: hostRestarts,
    reloads,
    viewer_joins: viewerJoins,
    first_audio_ms_p50_start: startP50,
    first_audio_ms_p50_end: endP50,
    latency_drift_ratio: round3(endP50 / startP50),
  };
  if (options.seriesFile) {
    const series = Object.fromEntries([...recorder.series].map(([name, samples]) => [name, samples.map((sample) => [round3(sample.atMs / 1000), round3(sample.value)])]));
    writeFileSync(options.seriesFile, `${JSON.stringify({ warmUpSec: warmUpMs / 1000, series })}\n`);
  }
  const growth = { rss: [] as number[], heap: [] as number[], fd: [] as number[] };
  for (const [name, samples] of [...recorder.series].sort(([a], [b]) => a.localeCompare(b))) {
    const perHour = growthPerHour(samples, warmUpMs);
    if (!Number.isFinite(perHour)) continue;
    const [, role, measure] = /^(.*)_(rss_mb|anon_mb|heap_mb|external_mb|fd)$/.exec(name)!;
    if (measure === 'external_mb') {
      // Memory V8 counts outside a worker's heap (ArrayBuffers, Buffers): where model I/O would leak.
      metrics[`${role}_external_growth_mb_per_hour`] = round3(perHour);
      continue;
    }
    if (measure === 'anon_mb') {
      // The anonymous part of the RSS on its own: what grows when mapped files do not.
      metrics[`${role}_rss_anon_growth_mb_per_hour`] = round3(perHour);
      continue;
    }
    const metric = measure === 'fd' ? `${role}_fd_growth_per_hour` : `${role}_${measure === 'rss_mb' ? 'rss' : 'heap'}_growth_mb_per_hour`;
    metrics[metric] = round3(perHour);
    metrics[`${role}_${measure === 'fd' ? 'fd' : measure}_end`] = round3(samples.at(-1)!.value);
    // Native memory that climbs to a plateau (allocators keeping a peak working set) shows as growth
    // over the whole window and none over its second half; a leak grows in both.
    if (measure === 'rss_mb') {
      const lastHalfFrom = warmUpMs + (samples.at(-1)!.atMs - warmUpMs) / 2;
      const lastHalf = growthPerHour(samples, lastHalfFrom);
      if (Number.isFinite(lastHalf)) metrics[`${role}_rss_growth_mb_per_hour_last_half`] = round3(lastHalf);
    }
    growth[measure === 'fd' ? 'fd' : measure === 'rss_mb' ? 'rss' : 'heap'].push(perHour);
  }
  metrics.rss_growth_mb_per_hour = round3(Math.max(...growth.rss));
  metrics.heap_growth_mb_per_hour = round3(Math.max(...growth.heap));
  metrics.fd_growth_per_hour = round3(Math.max(...growth.fd));
  return {
    profile,
    metrics,
    errors: recorder.errors,
    notes: [
      `fake microphone loop of ${loopSec.toFixed(1)} s: ${LOOP.map((part) => `"${part.text}"`).join(', ')}; a barge-in restarts it while the avatar speaks`,
      `sampled every ${sampleEveryMs / 1000} s; growth is a least-squares slope over samples after ${warmUpMs / 1000} s; heaps after a forced full GC (inspector/CDP), except worker threads' (*_worker_heap_mb: in use, nothing forced, as a forced collection would free the native memory their wrappers hold)`,
      'rss/heap/fd_growth aggregates are the largest over the engine, each runtime host and (heap) the page',
      `first_audio_ms: engine turn trace, speech end to first audible sample; start/end are the first and last third of the timed turns (the first turn left out)`,
      ...recorder.errors.slice(0, 20),
    ],
  };
}
