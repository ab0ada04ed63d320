import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readZipEntries, unzipEntry } from '../../app/engine/models/zip-reader';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';

/** A zip as Python's zipfile writes wheels: one stored and one deflated entry. */
function pythonZip(): Buffer {
  const script = [
    'import io, sys, zipfile',
    'out = io.BytesIO()',
    'with zipfile.ZipFile(out, "w") as z:',
    '    z.writestr(zipfile.ZipInfo("pkg/stored.txt"), b"stored bytes")',
    '    z.writestr("pkg/deflated.bin", bytes(range(256)) * 64, compress_type=zipfile.ZIP_DEFLATED)',
    'sys.stdout.buffer.write(out.getvalue())',
  ].join('\n');
  return execFileSync(process.env.AVATAR_PYTHON ?? 'python3', ['-c', script]);
}

describe('zip reader (wheels)', () => {
  const zip = pythonZip();

  it('lists the entries and unpacks stored and deflated ones', () => {
    const entries = readZipEntries(zip, 'test.whl');
    expect(entries.map((entry) => [entry.name, entry.method])).toEqual([
      ['pkg/stored.txt', 0],
      ['pkg/deflated.bin', 8],
    ]);
    expect(unzipEntry(zip, entries[0]!, 'test.whl').toString()).toBe('stored bytes');
    const deflated = unzipEntry(zip, entries[1]!, 'test.whl');
    expect(deflated.length).toBe(256 * 64);
    expect(deflated[257]).toBe(1);
  });

  it('rejects what is not a zip as an invalid model, naming the file', () => {
    const error = (() => {
      try {
        readZipEntries(Buffer.from('not a zip at all, just text that is long enough'), 'broken.whl');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.ModelInvalid);
    expect((error as AppError).message).toMatch(/^broken\.whl: not a readable zip/);
  });
});
