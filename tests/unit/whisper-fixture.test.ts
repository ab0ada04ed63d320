import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, MEL_FFT_BINS } from '../../app/native-workers/stt/whisper-ggml-layout';
import { buildWhisperModel, ensureWhisperFixture, WHISPER_FIXTURE_HPARAMS } from '../../scripts/fixtures/whisper-fixture';

describe('whisper fixture model generator', () => {
  it('writes the same bytes for the same seed, different weights for another, and generates only once', async () => {
    const path = await ensureWhisperFixture();
    const written = await readFile(path);
    expect(buildWhisperModel(WHISPER_FIXTURE_HPARAMS, 0x5717).equals(written)).toBe(true);
    const reseeded = buildWhisperModel(WHISPER_FIXTURE_HPARAMS, 1);
    expect(reseeded.length).toBe(written.length);
    expect(reseeded.equals(written)).toBe(false);

    const modifiedMs = (await stat(path)).mtimeMs;
    expect(await ensureWhisperFixture()).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(modifiedMs);
  });

  it('carries whisper’s Slaney mel filterbank (librosa, 16 kHz, n_fft 400)', async () => {
    const model = await readFile(await ensureWhisperFixture());
    const filter = (mel: number, bin: number): number => model.readFloatLE(HEADER_BYTES + 8 + (mel * MEL_FFT_BINS + bin) * 4);
    // openai/whisper assets/mel_filters.npz, mel_80[0, 0:3].
    expect([filter(0, 0), filter(0, 1), filter(0, 2)]).toEqual([0, expect.closeTo(0.0248626, 6), 0]);
    let area = 0;
    for (let mel = 0; mel < 80; mel++) for (let bin = 0; bin < MEL_FFT_BINS; bin++) area += filter(mel, bin);
    // Slaney normalization gives every triangle unit area in Hz; sampled every 40 Hz, 80 of them sum to ~2.
    expect(area).toBeCloseTo(2, 2);
  });
});
