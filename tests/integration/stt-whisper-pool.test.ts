import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { decodeWavAt } from '../../app/engine/lipsync/wav-file';
import { forkHostLauncher } from '../../app/engine/pool/host-launcher';
import { WorkerPool } from '../../app/engine/pool/worker-pool';
import { SttRunResultSchema, type SttRunInput } from '../../app/shared/worker.contract';
import { ensureWhisperFixture } from '../../scripts/fixtures/whisper-fixture';

const SAMPLE_RATE_HZ = 16_000;
const jfkWav = join(appRoot, '..', 'shared', 'models', 'jfk.wav');
const espeakNg = '/usr/bin/espeak-ng';

const wavTo16kHz = (wav: Buffer): Float32Array<ArrayBuffer> => decodeWavAt(wav, SAMPLE_RATE_HZ);

const sttInput = (pcm: SttRunInput['pcm'], final = true): SttRunInput => ({ kind: 'stt', sampleRateHz: 16000, pcm, final });

describe('whisper STT through the warm pool (runtime host process, worker thread)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    const modelPath = await ensureWhisperFixture();
    pool = new WorkerPool({
      kinds: { stt: { count: 1, spec: { kind: 'stt', engine: 'whisper', modelName: 'whisper fixture', modelPath, threads: 1, options: {} } } },
      launcher: forkHostLauncher,
      leaseTimeoutMs: 10_000,
      health: { pingIntervalMs: 1000, pingDeadlineMs: 5000, memoryCeilingBytes: 2e9 },
      hostRestartDelayMs: 50,
      shutdownTimeoutMs: 10_000,
    });
    await pool.start();
  });
  afterAll(async () => pool?.shutdown());

  it('leases the warm worker, transcribes, and cancels through the lease signal', async () => {
    expect(pool.status()).toMatchObject([{ kind: 'stt', state: 'ready', model: 'whisper fixture' }]);
    const lease = await pool.lease('stt', 'session-1');
    try {
      const audio = new Float32Array(SAMPLE_RATE_HZ * 2).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / SAMPLE_RATE_HZ));
      const result = SttRunResultSchema.parse(await lease.worker.run(sttInput(audio.slice(), false)));
      expect(result.segments.length).toBeGreaterThan(0);

      const controller = new AbortController();
      const cancelled = lease.worker.run(sttInput(audio.slice()), { signal: controller.signal });
      // The cancel follows the run through the host at once: whisper.cpp (SIMD, utterance-sized
      // encoder) transcribes 2 s with the fixture model in a few ms, so a later cancel could miss it.
      controller.abort();
      await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
      expect(SttRunResultSchema.parse(await lease.worker.run(sttInput(audio.slice())))).toEqual(result);
    } finally {
      lease.release();
    }
  });

  it.skipIf(!existsSync(jfkWav) && !existsSync(espeakNg))('runs real speech (espeak-ng, jfk.wav) with segments inside the audio', async () => {
    const parts: Float32Array[] = [];
    if (existsSync(espeakNg)) parts.push(wavTo16kHz(execFileSync(espeakNg, ['--stdout', '-v', 'en-us', 'Hello there, could you tell me the weather for tomorrow?'])));
    if (existsSync(jfkWav)) parts.push(new Float32Array(SAMPLE_RATE_HZ / 2), wavTo16kHz(readFileSync(jfkWav)));
    // One input under whisper's 30 s window costs one run, however many parts it holds.
    const pcm = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      pcm.set(part, offset);
      offset += part.length;
    }
    const audioMs = (pcm.length / SAMPLE_RATE_HZ) * 1000;
    const lease = await pool.lease('stt', 'session-2');
    try {
      const result = SttRunResultSchema.parse(await lease.worker.run(sttInput(pcm)));
      expect(typeof result.text).toBe('string');
      for (const segment of result.segments) expect(segment.endMs).toBeLessThanOrEqual(audioMs);
    } finally {
      lease.release();
    }
  });
});
