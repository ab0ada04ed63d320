import { copyFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectGgufFile } from '../../app/native-workers/llm/gguf-file';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { ensureGgufFixture } from '../../scripts/fixtures/gguf-fixture';

/** A GGUF header with the given version and counts, then `rest`. */
function ggufHeader(version: number, tensorCount: bigint, metadataCount: bigint, rest: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(24);
  header.write('GGUF', 0, 'ascii');
  header.writeUInt32LE(version, 4);
  header.writeBigUInt64LE(tensorCount, 8);
  header.writeBigUInt64LE(metadataCount, 16);
  return Buffer.concat([header, rest]);
}

async function expectModelError(path: string, code: ErrorCode, reason: RegExp): Promise<void> {
  const error = await inspectGgufFile(path).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code, recoverable: false });
  const { message } = error as AppError;
  expect(message).toContain(path.split('/').at(-1));
  expect(message).toMatch(reason);
}

describe('GGUF pre-load check', () => {
  let dir: string;
  let fixture: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gguf-file-'));
    fixture = await ensureGgufFixture();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a missing file as model_missing, naming it', async () => {
    await expectModelError(join(dir, 'nowhere.gguf'), ErrorCode.ModelMissing, /was not found; expected a GGUF model/);
  });

  it('rejects a directory, an empty file and a file shorter than the header', async () => {
    const folder = join(dir, 'folder.gguf');
    await mkdir(folder);
    await expectModelError(folder, ErrorCode.ModelInvalid, /is not a file/);
    const empty = join(dir, 'empty.gguf');
    await writeFile(empty, '');
    await expectModelError(empty, ErrorCode.ModelInvalid, /only 0 bytes/);
    const short = join(dir, 'short.gguf');
    await writeFile(short, 'GGUF\u0003');
    await expectModelError(short, ErrorCode.ModelInvalid, /only 5 bytes/);
  });

  it('rejects files of other formats, quoting what they start with', async () => {
    const ggml = join(dir, 'ggml-whisper.bin');
    const legacy = Buffer.alloc(64);
    legacy.writeUInt32LE(0x67676d6c, 0);
    await writeFile(ggml, legacy);
    await expectModelError(ggml, ErrorCode.ModelInvalid, /not a GGUF model: it starts with "lmgg" instead of the GGUF magic "GGUF"/);
    const binary = join(dir, 'random.gguf');
    await writeFile(binary, Buffer.from([0x00, 0xff, 0x10, 0x80, ...new Array<number>(40).fill(1)]));
    await expectModelError(binary, ErrorCode.ModelInvalid, /starts with 00 ff 10 80/);
  });

  it('rejects unknown GGUF versions and nonsense counts', async () => {
    const future = join(dir, 'future.gguf');
    await writeFile(future, ggufHeader(9, 0n, 0n));
    await expectModelError(future, ErrorCode.ModelInvalid, /GGUF version 9; expected version 2 or 3/);
    const garbage = join(dir, 'garbage.gguf');
    await writeFile(garbage, ggufHeader(3, 1n << 40n, 3n));
    await expectModelError(garbage, ErrorCode.ModelInvalid, /corrupt GGUF header/);
    const hugeKey = Buffer.alloc(8);
    hugeKey.writeBigUInt64LE(1n << 50n);
    const hugeKeyPath = join(dir, 'huge-key.gguf');
    await writeFile(hugeKeyPath, ggufHeader(3, 0n, 1n, hugeKey));
    await expectModelError(hugeKeyPath, ErrorCode.ModelInvalid, /GGUF header runs past the end of the file/);
  });

  it('rejects a GGUF without an architecture', async () => {
    const bare = join(dir, 'bare.gguf');
    await writeFile(bare, ggufHeader(3, 0n, 0n, Buffer.alloc(8)));
    await expectModelError(bare, ErrorCode.ModelInvalid, /no "general.architecture"/);
  });

  it('detects truncation in the header and in the tensor data', async () => {
    const cutHeader = join(dir, 'cut-header.gguf');
    await copyFile(fixture, cutHeader);
    await truncate(cutHeader, 4096);
    await expectModelError(cutHeader, ErrorCode.ModelInvalid, /truncated: its GGUF header runs past the end of the file \(4096 bytes\)/);

    const size = (await readFile(fixture)).length;
    const cutData = join(dir, 'cut-data.gguf');
    await copyFile(fixture, cutData);
    await truncate(cutData, size - 1);
    await expectModelError(cutData, ErrorCode.ModelInvalid, new RegExp(`tensors need ${size} bytes but the file has ${size - 1}`));
  });

  it('accepts the fixture', async () => {
    await expect(inspectGgufFile(fixture)).resolves.toMatchObject({ architecture: 'llama', version: 3 });
  });
});
