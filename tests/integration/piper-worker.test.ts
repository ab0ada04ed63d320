/**
 * The Piper worker (engine "piper") in a real worker thread, with the real development voice
 * (Piper en_US joe, medium): typed errors for bad files, speech whose phoneme timeline is the
 * voice's own durations (tiling the audio sample-exactly), bilabials where the lips close,
 * determinism with noise 0, speed, cancellation, and (when the dev whisper model is there) that
 * whisper understands it. Skipped (with the reason in the title) when the dev models are absent.
 */
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../app/engine/lipsync/wav-file';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { isVowel } from '../../app/native-workers/tts/ipa-phoneme-classes';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import { TtsRunResultSchema, type FromWorker, type LoadSpec, type ToWorker, type TtsRunResult } from '../../app/shared/worker.contract';
import { ensurePiperVoiceFixture } from '../../scripts/fixtures/voice-fixture';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';
import { requestWorker as send } from '../support/worker-request';
import { startWhisperWorker, stopWhisperWorker, transcribeOn } from '../support/whisper-worker';

const dev = await devModelsOrSkipReason();
const HOP = 256;
/** Opening the 60 MB voice (plus tsx compiling eSpeak's 0.8 MB module in the thread) on a busy 2-core machine. */
const LOAD_TIMEOUT_MS = 240_000;
const TRANSCRIBE_TIMEOUT_MS = 120_000;



function load(worker: Worker, modelPath: string, options: Record<string, unknown> = {}): Promise<FromWorker> {
  const spec: LoadSpec = { kind: 'tts', engine: 'piper', modelName: 'Piper joe (medium)', modelPath, threads: 1, options: { warmUp: false, ...options } };
  return send(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
}

let nextRequest = 0;

async function speak(worker: Worker, text: string, speed?: number): Promise<TtsRunResult> {
  const reply = await request(worker, text, speed);
  if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
  return TtsRunResultSchema.parse(reply.data);
}

function request(worker: Worker, text: string, speed?: number, afterPost?: (requestId: string) => void): Promise<FromWorker> {
  const requestId = `piper-${nextRequest++}`;
  const input = { kind: 'tts' as const, text, ...(speed === undefined ? {} : { speed }) };
  const reply = send(worker, { type: 'run', requestId, input }, (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId);
  afterPost?.(requestId);
  return reply;
}

async function stillAlive(worker: Worker): Promise<void> {
  expect(await send(worker, { type: 'ping', nonce: 3 }, (reply) => reply.type === 'pong')).toMatchObject({ type: 'pong', nonce: 3 });
}

function expectError(reply: FromWorker, code: string, naming: string): void {
  expect(reply).toMatchObject({ type: 'error', code, recoverable: false });
  expect((reply as { message: string }).message).toContain(naming);
}

/** The spans tile the audio: from 0, contiguous, to its last sample; every boundary is a whole frame. */
function expectExactTiling(result: TtsRunResult): void {
  const { phonemes, pcm, sampleRateHz } = result;
  expect(phonemes.length).toBeGreaterThan(0);
  expect(phonemes[0]!.startMs).toBe(0);
  phonemes.forEach((span, index) => {
    expect(span.endMs).toBeGreaterThan(span.startMs);
    if (index > 0) expect(span.startMs).toBe(phonemes[index - 1]!.endMs);
    const boundary = (span.endMs * sampleRateHz) / 1000;
    expect(Math.abs(boundary - Math.round(boundary))).toBeLessThan(1e-6);
    expect(Math.round(boundary) % HOP).toBe(0);
  });
  expect(phonemes.at(-1)!.endMs).toBe((pcm.length * 1000) / sampleRateHz);
}

/** RMS of 5 ms frames inside [startMs, endMs). */
function frameRms(result: TtsRunResult, span: PhonemeSpan): number[] {
  const frame = Math.round(result.sampleRateHz * 0.005);
  const start = Math.round((span.startMs * result.sampleRateHz) / 1000);
  const end = Math.round((span.endMs * result.sampleRateHz) / 1000);
  const out: number[] = [];
  for (let at = start; at + frame <= end; at += frame) {
    let sum = 0;
    for (let i = at; i < at + frame; i++) sum += result.pcm[i]! ** 2;
    out.push(Math.sqrt(sum / frame));
  }
  return out;
}

describe.skipIf(!dev.ok)(`Piper worker with the dev voice${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const modelPath = dev.ok ? dev.profile.tts.piperOnnxPath : '';
  const configPath = dev.ok ? dev.profile.tts.piperConfigPath : '';
  let worker: Worker;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'piper-worker-'));
    worker = startSourceWorker(workerEntryFor('piper'));
  });

  afterAll(async () => {
    await worker?.terminate();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('answers bad files and options with typed errors naming the file, and the worker survives', async () => {
    const missing = join(scratch, 'missing.onnx');
    expectError(await load(worker, missing), 'model_missing', missing);

    const lonely = join(scratch, 'lonely.onnx');
    await symlink(modelPath, lonely);
    expectError(await load(worker, lonely), 'model_missing', `${lonely}.json`);

    const badJson = join(scratch, 'bad-json.onnx');
    await symlink(modelPath, badJson);
    await writeFile(`${badJson}.json`, '{"audio": ');
    expectError(await load(worker, badJson), 'model_invalid', `${badJson}.json`);

    const noMap = join(scratch, 'no-map.onnx');
    await symlink(modelPath, noMap);
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(`${noMap}.json`, JSON.stringify({ ...config, phoneme_id_map: undefined }));
    const noMapReply = await load(worker, noMap);
    expectError(noMapReply, 'model_invalid', `${noMap}.json`);
    expect((noMapReply as { message: string }).message).toContain('phoneme_id_map');

    const truncated = join(scratch, 'truncated.onnx');
    await writeFile(truncated, (await readFile(modelPath)).subarray(0, 5000));
    await copyFile(configPath, `${truncated}.json`);
    expectError(await load(worker, truncated), 'model_invalid', truncated);

    const fixture = await ensurePiperVoiceFixture();
    const noCeil = join(scratch, 'fixture.onnx');
    await copyFile(fixture.modelPath, noCeil);
    await copyFile(configPath, `${noCeil}.json`);
    const noCeilReply = await load(worker, noCeil);
    expectError(noCeilReply, 'model_invalid', noCeil);
    expect((noCeilReply as { message: string }).message).toMatch(/not a Piper voice.*no Ceil node/);

    expectError(await load(worker, modelPath, { noiseW: -1 }), 'model_invalid', 'noiseW');
    await stillAlive(worker);
  });

  it(
    'loads the dev voice and reports exact timing',
    async () => {
      const ready = await load(worker, modelPath);
      expect(ready).toMatchObject({
        type: 'ready',
        info: { engine: 'piper', sampleRateHz: 22_050, speakers: 1, espeakVoice: 'en-us', hopLength: HOP, durationsOutput: '/Ceil_output_0', timing: 'exact' },
      });
    },
    LOAD_TIMEOUT_MS,
  );

  it('speaks sentences whose timelines are the voice’s durations, tiling the audio sample for sample', async () => {
    const texts = [
      'Hello, world. How are you today?',
      'Peter Piper picked a peck of pickled peppers.',
      'The meeting starts at nine thirty sharp, so do not be late!',
    ];
    for (const text of texts) {
      const result = await speak(worker, text);
      expect(result.timing).toBe('exact');
      expect(result.sampleRateHz).toBe(22_050);
      expectExactTiling(result);
      const labels = result.phonemes.map((span) => span.phoneme);
      expect(labels.every((label) => !/[ˈˌ]/u.test(label))).toBe(true);
      expect(labels[0]).toBe('sil');
      expect(labels.at(-1)).toBe('sil');
      const spoken = result.phonemes.filter((span) => span.phoneme !== 'sil');
      const meanMs = spoken.reduce((sum, span) => sum + span.endMs - span.startMs, 0) / spoken.length;
      expect(meanMs).toBeGreaterThan(35);
      expect(meanMs).toBeLessThan(150);
    }
    const peter = await speak(worker, 'Peter Piper picked a peck of pickled peppers.');
    expect(peter.phonemes.filter((span) => span.phoneme === 'p')).toHaveLength(8);
  });

  it('puts the bilabials where the lips close: in order, inside speech, voiceless ones with a silent closure', async () => {
    const result = await speak(worker, 'Bob met Pam by the map. Pop up, Pip!');
    expectExactTiling(result);
    const bilabials = result.phonemes.filter((span) => ['p', 'b', 'm'].includes(span.phoneme));
    expect(bilabials.map((span) => span.phoneme).join('')).toBe('bbmpmbmpppppp');
    const speech = result.phonemes.filter((span) => span.phoneme !== 'sil');
    for (const span of bilabials) {
      expect(span.startMs).toBeGreaterThanOrEqual(speech[0]!.startMs);
      expect(span.endMs).toBeLessThanOrEqual(speech.at(-1)!.endMs);
    }
    const vowelFrames = result.phonemes.filter((span) => isVowel(span.phoneme)).flatMap((span) => frameRms(result, span));
    vowelFrames.sort((a, b) => a - b);
    const vowelMedian = vowelFrames[Math.floor(vowelFrames.length / 2)]!;
    const closures = bilabials.filter((span) => span.phoneme === 'p').map((span) => Math.min(...frameRms(result, span)) / vowelMedian);
    // A /p/ closes the lips and stops the voice: its quietest 5 ms is ≥ 20 dB below a typical vowel.
    expect(closures.filter((ratio) => ratio < 0.1).length).toBeGreaterThanOrEqual(closures.length - 1);
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const bilabialLevel = mean(bilabials.flatMap((span) => frameRms(result, span)));
    const vowelLevel = mean(vowelFrames);
    expect(bilabialLevel).toBeLessThan(vowelLevel * 0.7);
  });

  it(
    'repeats itself exactly with noise 0, and speaks faster at speed 1.5',
    async () => {
      expect(await load(worker, modelPath, { noiseScale: 0, noiseW: 0 })).toMatchObject({ type: 'ready' });
      const text = 'My mom bought a big blue bag.';
      const first = await speak(worker, text);
      const again = await speak(worker, text);
      expect(Buffer.from(again.pcm.buffer).equals(Buffer.from(first.pcm.buffer))).toBe(true);
      expect(again.phonemes).toEqual(first.phonemes);
      const fast = await speak(worker, text, 1.5);
      expectExactTiling(fast);
      expect(fast.pcm.length).toBeLessThan(first.pcm.length * 0.8);
      const spoken = (result: TtsRunResult): string[] => result.phonemes.map((span) => span.phoneme).filter((label) => label !== 'sil');
      expect(spoken(fast)).toEqual(spoken(first));
    },
    LOAD_TIMEOUT_MS,
  );

  it('stops a long request between sentences when cancelled', async () => {
    const text = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1} of a long answer.`).join(' ');
    const reply = await request(worker, text, undefined, (requestId) => worker.postMessage({ type: 'cancel', requestId } satisfies ToWorker));
    expect(reply).toMatchObject({ type: 'error', code: 'cancelled' });
    await stillAlive(worker);
  });

  const whisperPath = dev.ok ? dev.profile.stt.whisperGgmlPath : '';
  it.skipIf(!existsSync(whisperPath))(
    `is understood by whisper tiny.en (WER ≤ 25 %)${existsSync(whisperPath) ? '' : ' (SKIPPED: no dev whisper model)'}`,
    async () => {
      const text = 'Please turn off the lights in the kitchen before you leave. The weather today is sunny with a light breeze.';
      const result = await speak(worker, text);
      // The app's own whisper worker, without dropping repeats (a reply may really repeat itself).
      const { worker: whisper } = await startWhisperWorker(whisperPath, { dropRepeatedSentences: false });
      try {
        const heard = (await transcribeOn(whisper, new Float32Array(resample(result.pcm, result.sampleRateHz, 16_000)))).text.trim();
        const { wer } = wordErrorRate(text, heard);
        console.log(`Piper joe → whisper: "${heard}" (WER ${(wer * 100).toFixed(1)} %)`);
        expect(wer).toBeLessThanOrEqual(0.25);
      } finally {
        await stopWhisperWorker(whisper);
      }
    },
    TRANSCRIBE_TIMEOUT_MS,
  );
});
