import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, MEL_FFT_BINS } from '../../app/native-workers/stt/whisper-ggml-layout';
import { checkWhisperModelFile } from '../../app/native-workers/stt/whisper-model-check';
import { AppError } from '../../app/shared/errors.contract';
import { ensureWhisperFixture } from '../../scripts/fixtures/whisper-fixture';

/** Offset of a tensor record (its header) in the file, found by its name. */
function recordStart(model: Buffer, name: string, nDims: number): number {
  const nameAt = model.indexOf(Buffer.from(name));
  if (nameAt < 0) throw new Error(`no tensor ${name}`);
  return nameAt - 12 - 4 * nDims;
}

describe('whisper model file check (before whisper.cpp sees the file)', () => {
  let dir: string;
  let model: Buffer;
  let fixturePath: string;
  let nextFile = 0;

  async function check(bytes: Buffer): Promise<AppError> {
    const path = join(dir, `model-${nextFile++}.bin`);
    await writeFile(path, bytes);
    const error = await checkWhisperModelFile(path).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof AppError)) throw new Error(`expected an AppError for ${path}, got ${String(error)}`);
    expect(error.message).toContain(path);
    expect(error.recoverable).toBe(false);
    return error;
  }

  function edited(edit: (copy: Buffer) => void): Buffer {
    const copy = Buffer.from(model);
    edit(copy);
    return copy;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'whisper-check-'));
    fixturePath = await ensureWhisperFixture();
    model = await readFile(fixturePath);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts the fixture and summarizes it', async () => {
    const summary = await checkWhisperModelFile(fixturePath);
    // 7 encoder + 15 per encoder layer + 4 decoder + 24 per decoder layer, one layer each.
    expect(summary).toMatchObject({ tensorCount: 50, weightType: 'f16', multilingual: false, fileBytes: model.length });
    expect(summary.hparams).toMatchObject({ nVocab: 51864, nAudioState: 32, nAudioLayer: 1, nMels: 80, ftype: 1 });
  });

  it('tells a missing file (model_missing) from something that is not a file (model_invalid)', async () => {
    await expect(checkWhisperModelFile(join(dir, 'absent.bin'))).rejects.toMatchObject({ code: 'model_missing', message: expect.stringContaining('absent.bin') });
    await expect(checkWhisperModelFile(dir)).rejects.toMatchObject({ code: 'model_invalid', message: expect.stringContaining('is not a file') });
  });

  it('reports truncation in the header, the vocabulary and the last tensor', async () => {
    expect((await check(model.subarray(0, 20))).message).toMatch(/truncated: the header needs 48 bytes/);
    const vocabularyAt = HEADER_BYTES + 8 + 80 * MEL_FFT_BINS * 4 + 4;
    expect((await check(model.subarray(0, vocabularyAt + 1000))).message).toMatch(/truncated: vocabulary entry \d+/);
    const cut = await check(model.subarray(0, model.length - 2));
    expect(cut.code).toBe('model_invalid');
    expect(cut.message).toMatch(/truncated: the data of tensor "decoder.ln.bias" needs 128 bytes/);
  });

  it('rejects other formats and impossible headers', async () => {
    expect((await check(edited((copy) => copy.write('GGUF', 0, 'latin1')))).message).toMatch(/ggml magic 0x67676d6c \(found 0x46554747\) \(it is a GGUF file/);
    expect((await check(edited((copy) => copy.writeInt32LE(16, 4 + 4 * 6)))).message).toMatch(/n_text_state 16 \(must equal n_audio_state 32\)/);
    expect((await check(edited((copy) => copy.writeInt32LE(1000, 4)))).message).toMatch(/n_vocab 1000 \(expected 51864, 51865, 51866\)/);
    expect((await check(edited((copy) => copy.writeInt32LE(3, 4 + 4 * 3)))).message).toMatch(/n_audio_head 3 \(must divide 32\)/);
    expect((await check(edited((copy) => copy.writeInt32LE(99, 4 + 4 * 10)))).message).toMatch(/ftype 99 \(unsupported\)/);
  });

  it('rejects tensors of the wrong type, shape or name, missing or repeated', async () => {
    const conv1 = recordStart(model, 'encoder.conv1.weight', 3);
    expect((await check(edited((copy) => copy.writeInt32LE(0, conv1 + 8)))).message).toMatch(/"encoder.conv1.weight" stored as f32, expected f16/);
    expect((await check(edited((copy) => copy.writeInt32LE(81, conv1 + 16)))).message).toMatch(/"encoder.conv1.weight" shaped \[3, 81, 32\], expected \[3, 80, 32\]/);
    const last = recordStart(model, 'decoder.ln.bias', 1);
    expect((await check(edited((copy) => copy.write('decoder.lx.bias', last + 16, 'latin1')))).message).toMatch(/holds tensor "decoder.lx.bias", which whisper.cpp does not know/);
    expect((await check(model.subarray(0, last))).message).toMatch(/lacks 1 of 50 tensors \(first: "decoder.ln.bias"\)/);
    expect((await check(Buffer.concat([model, model.subarray(last)]))).message).toMatch(/holds tensor "decoder.ln.bias" twice/);
    expect((await check(model.subarray(0, recordStart(model, 'encoder.positional_embedding', 2)))).message).toMatch(/holds no tensors/);
  });

  it('requires the " " token that whisper.cpp looks up while decoding', async () => {
    const spaceEntry = model.indexOf(Buffer.from([1, 0, 0, 0, 0x20]));
    expect(spaceEntry).toBeGreaterThan(HEADER_BYTES);
    expect((await check(edited((copy) => copy.write('!', spaceEntry + 4, 'latin1')))).message).toMatch(/no " " token/);
  });
});
