import { inflateRawSync } from 'node:zlib';
import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * Reads entries of a zip held in memory (a Python wheel is a zip): the central directory, then each
 * wanted entry, stored or deflated. No zip64, encryption or multi-disk archives: wheels need none.
 */

/** One file of a zip, as its central directory lists it. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedBytes: number;
  bytes: number;
  localHeaderOffset: number;
}

/** The entries of a zip; `label` names the file in errors. */
export function readZipEntries(zip: Buffer, label: string): ZipEntry[] {
  const bad = (what: string): AppError => new AppError(ErrorCode.ModelInvalid, `${label}: not a readable zip (${what})`, false);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw bad('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) throw bad(`central entry ${i}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: zip.readUInt16LE(offset + 10),
      compressedBytes: zip.readUInt32LE(offset + 20),
      bytes: zip.readUInt32LE(offset + 24),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry (stored or deflated), checked against its listed size. */
export function unzipEntry(zip: Buffer, entry: ZipEntry, label: string): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== 0x04034b50) throw new AppError(ErrorCode.ModelInvalid, `${label}: bad local header for ${entry.name}`, false);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedBytes);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data || data.length !== entry.bytes) {
    throw new AppError(ErrorCode.ModelInvalid, `${label}: cannot unpack ${entry.name} (method ${entry.method})`, false);
  }
  return data;
}
