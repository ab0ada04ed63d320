import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import { TtsRunResultSchema, type FromWorker, type LoadSpec } from '../../app/shared/worker.contract';
import { startWorkerThread as startSourceWorker } from '../../app/native-workers/worker-thread';
import { requestWorker as request } from '../support/worker-request';


/** Sends one message to a real worker thread and resolves with the first reply `accept` takes. */

const loadSpec: LoadSpec = { kind: 'tts', engine: 'espeak', modelName: 'eSpeak NG en-us', threads: 1, options: { voice: 'en-us', warmUp: false } };

async function synthesize(worker: Worker, text: string, voice?: string): Promise<FromWorker> {
  const requestId = `r-${Math.random()}`;
  return request(worker, { type: 'run', requestId, input: { kind: 'tts', text, voice } }, (reply) =>
    (reply.type === 'result' || reply.type === 'error') && reply.requestId === requestId,
  );
}

function expectTiling(phonemes: readonly PhonemeSpan[], durationMs: number, sampleMs: number): void {
  expect(phonemes[0]!.startMs).toBe(0);
  for (let i = 1; i < phonemes.length; i++) expect(phonemes[i]!.startMs).toBe(phonemes[i - 1]!.endMs);
  for (const span of phonemes) expect(span.endMs).toBeGreaterThan(span.startMs);
  expect(Math.abs(phonemes.at(-1)!.endMs - durationMs)).toBeLessThanOrEqual(sampleMs);
}

function peakAmplitude(pcm: Float32Array, startMs: number, endMs: number, sampleRateHz: number): number {
  let peak = 0;
  for (let i = Math.floor((startMs * sampleRateHz) / 1000); i < Math.floor((endMs * sampleRateHz) / 1000); i++) {
    peak = Math.max(peak, Math.abs(pcm[i]!));
  }
  return peak;
}

describe('embedded eSpeak NG voice in a worker thread', () => {
  let worker: Worker;

  beforeAll(async () => {
    worker = startSourceWorker(workerEntryFor('espeak'));
    const ready = await request(worker, { type: 'load', spec: loadSpec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    expect(ready).toMatchObject({ type: 'ready', info: { engine: 'espeak', timing: 'exact' } });
  });

  afterAll(async () => {
    await worker.terminate();
  });

  it('speaks a sentence whose exact phoneme timeline tiles the audio', async () => {
    const reply = await synthesize(worker, 'Peter Piper picked a peck of pickled peppers.');
    if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
    const result = TtsRunResultSchema.parse(reply.data);
    expect(result.timing).toBe('exact');
    expect(result.sampleRateHz).toBe(22050);
    const durationMs = (result.pcm.length * 1000) / result.sampleRateHz;
    expect(durationMs).toBeGreaterThan(1500);
    expectTiling(result.phonemes, durationMs, 1000 / result.sampleRateHz);

    const spoken = result.phonemes.filter((span) => span.phoneme !== 'sil');
    expect(spoken.filter((span) => span.phoneme === 'p').length).toBeGreaterThanOrEqual(8);
    expect(spoken.map((span) => span.phoneme).slice(0, 4)).toEqual(['p', 'iː', 'ɾ', 'ɚ']);
    expect(spoken.every((span) => !/[ˈˌ]/u.test(span.phoneme))).toBe(true);

    // The first phoneme starts where the sound starts: the leading "sil" is silent.
    expect(result.phonemes[0]!.phoneme).toBe('sil');
    expect(peakAmplitude(result.pcm, 0, result.phonemes[0]!.endMs, result.sampleRateHz)).toBeLessThan(0.01);
    // Vowels carry the energy.
    const vowel = spoken.find((span) => span.phoneme === 'aɪ')!;
    expect(peakAmplitude(result.pcm, vowel.startMs, vowel.endMs, result.sampleRateHz)).toBeGreaterThan(0.1);
  });

  it('reports the bilabials /b/ and /m/ of a sentence as spans of their own', async () => {
    const reply = await synthesize(worker, 'Bob may bring my map, maybe.');
    if (reply.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
    const result = TtsRunResultSchema.parse(reply.data);
    const phonemes = result.phonemes.map((span) => span.phoneme);
    expect(phonemes.filter((phoneme) => phoneme === 'b').length).toBeGreaterThanOrEqual(3);
    expect(phonemes.filter((phoneme) => phoneme === 'm').length).toBeGreaterThanOrEqual(4);
    expectTiling(result.phonemes, (result.pcm.length * 1000) / result.sampleRateHz, 1000 / result.sampleRateHz);
  });

  it('answers an unknown voice with a typed error and keeps serving', async () => {
    const reply = await synthesize(worker, 'Hello.', 'no-such-voice');
    expect(reply).toMatchObject({ type: 'error', code: 'model_invalid', recoverable: true });
    expect((reply as { message: string }).message).toContain('no-such-voice');
    const next = await synthesize(worker, 'Still here.');
    expect(next.type).toBe('result');
  });
});
