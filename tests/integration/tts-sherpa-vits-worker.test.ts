import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { FromWorkerSchema, TtsRunResultSchema, type FromWorker, type LoadSpec, type ToWorker } from '../../app/shared/worker.contract';
import { FIXTURE_LEXICON, FIXTURE_SAMPLES_PER_TOKEN, FIXTURE_SAMPLE_RATE_HZ, PIPER_FIXTURE_SAMPLES_PER_TOKEN, ensurePiperVoiceFixture, ensureVoiceFixture, type VoiceFixture } from '../../scripts/fixtures/voice-fixture';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';


function request(worker: Worker, message: ToWorker, accept: (reply: FromWorker) => boolean): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const reply = FromWorkerSchema.parse(raw);
      if (!accept(reply)) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve(reply);
    };
    const onExit = (code: number): void => reject(new Error(`worker exited with code ${code}`));
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.postMessage(message);
  });
}

function load(worker: Worker, spec: Partial<LoadSpec> & { options: Record<string, unknown> }): Promise<FromWorker> {
  const full: LoadSpec = { kind: 'tts', engine: 'sherpa-vits', modelName: 'fixture voice', threads: 1, ...spec };
  return request(worker, { type: 'load', spec: full }, (reply) => reply.type === 'ready' || reply.type === 'error');
}

async function stillAlive(worker: Worker): Promise<void> {
  const pong = await request(worker, { type: 'ping', nonce: 7 }, (reply) => reply.type === 'pong');
  expect(pong).toMatchObject({ type: 'pong', nonce: 7 });
}

describe('sherpa-onnx VITS worker with the generated fixture voice', () => {
  let worker: Worker;
  let fixture: VoiceFixture;
  let scratch: string;

  beforeAll(async () => {
    fixture = await ensureVoiceFixture();
    scratch = await mkdtemp(join(tmpdir(), 'tts-sherpa-'));
    worker = startSourceWorker(workerEntryFor('sherpa-vits'));
  });

  afterAll(async () => {
    await worker.terminate();
    await rm(scratch, { recursive: true, force: true });
  });

  it('regenerates the fixture idempotently and byte for byte', async () => {
    const before = await stat(fixture.modelPath);
    const bytes = await readFile(fixture.modelPath);
    const again = await ensureVoiceFixture();
    expect(again).toEqual(fixture);
    expect((await stat(fixture.modelPath)).mtimeMs).toBe(before.mtimeMs);

    const fresh = await ensureVoiceFixture(join(scratch, 'fresh'));
    expect(Buffer.compare(await readFile(fresh.modelPath), bytes)).toBe(0);
  });

  it('needs its checks: sherpa itself ends the whole process on a voice without lexicon or data dir', () => {
    const config = { model: { vits: { model: fixture.modelPath, tokens: fixture.tokensPath }, numThreads: 1 }, silenceScale: 1 };
    const child = spawnSync(process.execPath, ['-e', `new (require('sherpa-onnx-node').OfflineTts)(${JSON.stringify(config)})`], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    expect(child.status).toBe(255);
  });

  it('answers bad voices with typed errors naming the file, and the worker survives', async () => {
    const noFrontend = await load(worker, { modelPath: fixture.modelPath, options: { tokensPath: fixture.tokensPath } });
    expect(noFrontend).toMatchObject({ type: 'error', code: 'model_invalid', recoverable: false });
    expect((noFrontend as { message: string }).message).toContain(fixture.modelPath);
    await stillAlive(worker);

    const missingTokens = join(scratch, 'missing-tokens.txt');
    const noTokens = await load(worker, { modelPath: fixture.modelPath, options: { tokensPath: missingTokens, lexiconPath: fixture.lexiconPath } });
    expect(noTokens).toMatchObject({ type: 'error', code: 'model_missing' });
    expect((noTokens as { message: string }).message).toContain(missingTokens);
    await stillAlive(worker);

    const truncated = join(scratch, 'truncated.onnx');
    await writeFile(truncated, (await readFile(fixture.modelPath)).subarray(0, 5000));
    const broken = await load(worker, { modelPath: truncated, options: { tokensPath: fixture.tokensPath, lexiconPath: fixture.lexiconPath } });
    expect(broken).toMatchObject({ type: 'error', code: 'model_invalid' });
    expect((broken as { message: string }).message).toContain(truncated);
    await stillAlive(worker);

    const badTokens = join(scratch, 'bad-tokens.txt');
    await writeFile(badTokens, 'p 1 extra\n');
    const malformed = await load(worker, { modelPath: fixture.modelPath, options: { tokensPath: badTokens, lexiconPath: fixture.lexiconPath } });
    expect(malformed).toMatchObject({ type: 'error', code: 'model_invalid' });
    expect((malformed as { message: string }).message).toContain(badTokens);
    await stillAlive(worker);
  });

  it('loads the fixture voice and speaks with the exact expected length and its phoneme sequence', async () => {
    const ready = await load(worker, { modelPath: fixture.modelPath, options: { tokensPath: fixture.tokensPath, lexiconPath: fixture.lexiconPath } });
    expect(ready).toMatchObject({ type: 'ready', info: { engine: 'sherpa-vits', sampleRateHz: FIXTURE_SAMPLE_RATE_HZ, frontend: 'lexicon' } });

    const words = ['peter', 'piper', 'picked', 'a', 'peck', 'of', 'pickled', 'peppers'];
    const requestId = 'fixture-1';
    const reply = await request(
      worker,
      { type: 'run', requestId, input: { kind: 'tts', text: 'Peter Piper picked a peck of pickled peppers.' } },
      (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
    );
    if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
    const result = TtsRunResultSchema.parse(reply.data);

    // Every word's tokens plus a separator after each word, plus one for the full stop.
    const phonemeCount = words.reduce((sum, word) => sum + FIXTURE_LEXICON[word]!.length, 0);
    expect(result.pcm.length).toBe((phonemeCount + words.length + 1) * FIXTURE_SAMPLES_PER_TOKEN);
    expect(result.sampleRateHz).toBe(FIXTURE_SAMPLE_RATE_HZ);
    expect(result.timing).toBe('estimated');

    const durationMs = (result.pcm.length * 1000) / result.sampleRateHz;
    expect(result.phonemes[0]!.startMs).toBe(0);
    for (let i = 1; i < result.phonemes.length; i++) expect(result.phonemes[i]!.startMs).toBe(result.phonemes[i - 1]!.endMs);
    expect(result.phonemes.at(-1)!.endMs).toBeCloseTo(durationMs, 6);
    const spoken = result.phonemes.filter((span) => span.phoneme !== 'sil');
    expect(spoken.map((span) => span.phoneme)).toEqual(words.flatMap((word) => FIXTURE_LEXICON[word]!));

    // The silent word separators anchor the estimate: every word starts exactly where it sounds.
    const tokenMs = (FIXTURE_SAMPLES_PER_TOKEN * 1000) / FIXTURE_SAMPLE_RATE_HZ;
    let wordStartMs = 0;
    let phonemeIndex = 0;
    for (const word of words) {
      expect(spoken[phonemeIndex]!.startMs).toBeCloseTo(wordStartMs, 6);
      phonemeIndex += FIXTURE_LEXICON[word]!.length;
      wordStartMs += (FIXTURE_LEXICON[word]!.length + 1) * tokenMs;
    }
  });

  it('runs a Piper-style voice: eSpeak front end, timeline aligned from eSpeak\'s exact one', async () => {
    const piper = await ensurePiperVoiceFixture();
    const noData = await load(worker, { modelPath: piper.modelPath, options: { tokensPath: piper.tokensPath, dataDir: join(scratch, 'no-data') } });
    expect(noData).toMatchObject({ type: 'error', code: 'model_missing' });
    expect((noData as { message: string }).message).toContain(join(scratch, 'no-data', 'phontab'));

    const ready = await load(worker, { modelPath: piper.modelPath, options: { tokensPath: piper.tokensPath, dataDir: piper.dataDir } });
    expect(ready).toMatchObject({ type: 'ready', info: { frontend: 'espeak', timing: 'aligned' } });
    const requestId = 'piper-1';
    const reply = await request(
      worker,
      { type: 'run', requestId, input: { kind: 'tts', text: 'Peter Piper picked a peck of pickled peppers.' } },
      (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
    );
    if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
    const result = TtsRunResultSchema.parse(reply.data);
    expect(result.timing).toBe('aligned');
    expect(result.pcm.length % PIPER_FIXTURE_SAMPLES_PER_TOKEN).toBe(0);
    expect(result.phonemes[0]!.startMs).toBe(0);
    for (let i = 1; i < result.phonemes.length; i++) expect(result.phonemes[i]!.startMs).toBe(result.phonemes[i - 1]!.endMs);
    expect(result.phonemes.at(-1)!.endMs).toBeCloseTo((result.pcm.length * 1000) / result.sampleRateHz, 6);
    expect(result.phonemes.filter((span) => span.phoneme === 'p').length).toBeGreaterThanOrEqual(6);
  });
});
