import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Feeds a file's bytes into `hash` (streaming: a multi-GB model never sits in memory). */
export async function hashFileInto(path: string, hash: { update(chunk: Buffer): unknown }, signal?: AbortSignal): Promise<void> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  await pipeline(createReadStream(path), sink, { signal });
}

/** Hex sha256 of a file. */
export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(path, hash, signal);
  return hash.digest('hex');
}

/** Hex md5 or sha1 of a file (only to check a publisher's digest, never as our own pin). */
export async function digestOfFile(path: string, algorithm: 'md5' | 'sha1', signal?: AbortSignal): Promise<string> {
  const hash = createHash(algorithm);
  await hashFileInto(path, hash, signal);
  return hash.digest('hex');
}
