import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIC_RATE_HZ, resample } from '../../app/hosts/cli/spoken-turn';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { writeWavFile } from '../../app/engine/lipsync/wav-file';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import type { FaceSample, ScheduleRecord } from '../../app/renderer/lipsync/lipsync-probe';
import { TEST_HOOKS_PARAM } from '../../app/renderer/state/test-hooks';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import { visemeAt, visemeSpansFromPhonemes } from '../../app/shared/lipsync';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import { CHROMIUM_ARGS, startServeProcess, type ServeProcess } from '../support/serve-process';

/**
 * A real spoken conversation in Chromium on the development models: the fake microphone plays a
 * question (eSpeak NG, looped, with long silence after it), `npm run serve -- --profile dev` hears
 * it (silero VAD → whisper tiny.en), SmolLM2 answers, the Piper voice speaks with its own phoneme
 * durations, and the avatar's mouth follows that exact timeline: the `tts.chunk` messages are read
 * off the WebSocket, the renderer's lip-sync probe records the face on the audio clock, and in the
 * middle of every viseme of the wire timeline the face shows that viseme.
 */

const QUESTION = 'What is the capital of France?';
const CHROMIUM_PATH = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
const dev = await devModelsOrSkipReason();

function chromiumMissing(): string | null {
  if (CHROMIUM_PATH) return null;
  try {
    return existsSync(chromium.executablePath()) ? null : 'no Chromium for playwright-core';
  } catch {
    return 'no Chromium for playwright-core';
  }
}
const skipReason = !dev.ok ? dev.skipReason : chromiumMissing();

interface WireChunk {
  turnId: string;
  seq: number;
  text: string;
  phonemes: PhonemeSpan[];
}

let serve: ServeProcess | undefined;
let browser: Browser | undefined;
let workDir = '';

/**
 * 6 s of silence, the question, 30 s of silence: the fake device loops it, and the reply (to the
 * first pass, the engine being warm) ends long before the question comes round and barges in.
 * Chromium restarts the file whenever the page opens the microphone again; while a cold page starts
 * up that can happen after the first second, so a 1 s lead replayed the question over its own reply.
 */
async function questionWav(): Promise<string> {
  workDir = mkdtempSync(join(tmpdir(), 'dev-conversation-'));
  const clip = (await EmbeddedVoice.create()).render(QUESTION);
  const speech = resample(clip.pcm, clip.sampleRateHz, MIC_RATE_HZ);
  const leadSec = 6;
  const pcm = new Float32Array(MIC_RATE_HZ * (leadSec + 30) + speech.length);
  pcm.set(speech, MIC_RATE_HZ * leadSec);
  const path = join(workDir, 'question.wav');
  await writeWavFile(path, { pcm, sampleRateHz: MIC_RATE_HZ });
  return path;
}

/** The tts.chunk messages (binary frames: JSON header + PCM), final transcripts and turn.ended messages the page receives. */
interface EndedTurn {
  turnId: string;
  status: string;
  chunkCount: number;
}

function captureTurns(page: Page): { chunks: WireChunk[]; ended: EndedTurn[]; transcripts: Map<string, string>; stopped: Set<string> } {
  const chunks: WireChunk[] = [];
  const ended: EndedTurn[] = [];
  const transcripts = new Map<string, string>();
  const stopped = new Set<string>();
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') {
        const message = JSON.parse(payload) as EndedTurn & { type: string; text: string; final: boolean };
        if (message.type === 'turn.ended') ended.push({ turnId: message.turnId, status: message.status, chunkCount: message.chunkCount });
        if (message.type === 'transcript' && message.final) transcripts.set(message.turnId, message.text);
        if (message.type === 'turn.stop') stopped.add(message.turnId);
        return;
      }
      const message = decodeBinaryFrame(new Uint8Array(payload));
      if (message.type === 'tts.chunk') {
        chunks.push({ turnId: message.turnId as string, seq: message.seq as number, text: message.text as string, phonemes: message.phonemes as PhonemeSpan[] });
      }
    });
  });
  return { chunks, ended, transcripts, stopped };
}

async function waitFor(page: Page, what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(predicate, null, { timeout: timeoutMs, polling: 100 });
  } catch (error) {
    const snapshot = await page.evaluate(() => JSON.stringify({ ...window.avatarDiagnostics, morphWeights: undefined })).catch(() => 'unavailable');
    throw new Error(`Timed out waiting for ${what}; diagnostics: ${snapshot}\nserve output:\n${(serve?.output() ?? '').slice(-2000)}`, { cause: error });
  }
}

beforeAll(async () => {
  if (skipReason) return;
  const wav = await questionWav();
  // A data folder of its own: the shipped defaults, never the settings of whoever runs the tests.
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ vad: {}, poolSizes: {}, models: {} }));
  serve = await startServeProcess('dev', ['--data-dir', dataDir]);
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`],
  });
  // The engine warms its workers (models loaded, first calls made) before the looped question
  // starts playing into a page with the microphone on: otherwise the first passes go unheard.
  const warm = await browser.newPage();
  await warm.goto(serve.url.href);
  await warm.waitForFunction(() => window.avatarDiagnostics?.engineReady === true, null, { timeout: 110_000, polling: 200 });
  await warm.close();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe.skipIf(skipReason !== null)(`spoken conversation on the development models (Chromium)${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('transcribes the question, answers aloud in the Piper voice, and the mouth follows the exact timeline', { timeout: 150_000 }, async () => {
    const page = await browser!.newPage({ viewport: { width: 800, height: 600 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const { chunks, ended, transcripts, stopped } = captureTurns(page);
    const url = new URL(serve!.url);
    url.searchParams.set('mic', '1');
    url.searchParams.set(TEST_HOOKS_PARAM, '1');
    await page.goto(url.href);
    await waitFor(page, 'the lip-sync probe', () => window.avatarLipSyncProbe !== undefined, 30_000);
    await page.evaluate(() => window.avatarLipSyncProbe!.start(4));

    // The question is heard and transcribed, a reply is written and spoken to its end. The fake
    // microphone loops the file from wherever it is when the page opens it, so the first pass may
    // be the question's tail (heard as a fragment and answered): the turn checked is the first
    // whose transcript is the whole question; the next pass comes round within ~33 s.
    const heardWhole = (turnId: string): boolean => wordErrorRate(QUESTION, transcripts.get(turnId) ?? '').wer <= 0.34;
    // A reply the fake device's replayed question talked over (Chromium restarts the file when the
    // page opens the microphone again) is stopped mid-way: the lips are checked on one heard to its end.
    const spoken = (): EndedTurn | undefined =>
      ended.find((turn) => turn.status === 'complete' && turn.chunkCount > 0 && heardWhole(turn.turnId) && !stopped.has(turn.turnId));
    await expect
      .poll(() => spoken(), {
        timeout: 80_000,
        message: `a spoken reply to the whole question; turns ${JSON.stringify(ended)}; heard ${JSON.stringify([...transcripts.values()])}; serve output:\n${serve!.output().slice(-1500)}`,
      })
      .toBeDefined();
    const firstTurn = spoken()!;
    await page.waitForFunction((count) => (window.avatarDiagnostics?.chunksPlayed ?? 0) >= count && window.avatarDiagnostics!.state !== 'speaking', firstTurn.chunkCount, { timeout: 30_000, polling: 100 });
    const samples: FaceSample[] = await page.evaluate(() => window.avatarLipSyncProbe!.stop());
    const schedules: ScheduleRecord[] = await page.evaluate(() => window.avatarLipSyncProbe!.schedules());
    const diagnostics = await page.evaluate(() => window.avatarDiagnostics!);

    // The page shows what the engine heard, and the reply under it.
    const heardText = transcripts.get(firstTurn.turnId)!;
    const shown = diagnostics.transcript.findIndex((entry) => entry.role === 'user' && entry.text === heardText);
    expect(shown, `the page shows "${heardText}"; transcript ${JSON.stringify(diagnostics.transcript)}`).toBeGreaterThanOrEqual(0);
    const reply = diagnostics.transcript.slice(shown + 1).find((entry) => entry.role === 'avatar');
    expect(reply?.text.trim().length ?? 0).toBeGreaterThan(0);
    expect(diagnostics.lastTurn?.source).toBe('voice');
    expect(diagnostics.errors).toEqual([]);

    // The first turn's chunks, as sent: the Piper voice's timeline tiles each chunk from 0.
    const turnChunks = chunks.filter((chunk) => chunk.turnId === firstTurn.turnId).sort((a, b) => a.seq - b.seq);
    expect(turnChunks.length).toBe(firstTurn.chunkCount);

    let checked = 0;
    let agreed = 0;
    const misses: string[] = [];
    for (const chunk of turnChunks) {
      expect(chunk.phonemes[0]!.startMs).toBe(0);
      // The renderer scheduled exactly this timeline (not an estimate) at some audio-clock time. It is
      // found by turn and seq: an earlier reply (one the replayed question cut short) may begin with
      // the same words, and its timeline is not this one's.
      const schedule = schedules.find((record) => record.turnId === chunk.turnId && record.seq === chunk.seq);
      expect(schedule?.phonemes, `chunk ${chunk.seq} "${chunk.text}" was scheduled with its wire timeline`).toEqual(chunk.phonemes);
      const baseMs = schedule!.startSec * 1000;
      for (const span of visemeSpansFromPhonemes(chunk.phonemes)) {
        // The middle of visemes long enough to be seen (coarticulation blends the edges).
        if (span.endMs - span.startMs < 50) continue;
        const middleMs = (span.startMs + span.endMs) / 2;
        const inside = samples.filter((sample) => Math.abs(sample.audioTimeMs - baseMs - middleMs) <= 6);
        if (inside.length === 0) continue;
        checked += 1;
        const expected = visemeAt(visemeSpansFromPhonemes(chunk.phonemes), middleMs);
        if (inside.every((sample) => sample.viseme === expected)) agreed += 1;
        else misses.push(`${chunk.seq}@${Math.round(middleMs)}ms want ${expected}, saw ${[...new Set(inside.map((s) => s.viseme))].join('/')}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(agreed / checked, `${misses.join('; ')}; checked turn ${firstTurn.turnId} of ${JSON.stringify(ended)}; stopped ${JSON.stringify([...stopped])}; heard ${JSON.stringify([...transcripts])}`).toBeGreaterThanOrEqual(0.8);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
