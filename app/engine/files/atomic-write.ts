import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of a newly created file (e.g. 0o600 for the user's settings). */
  mode?: number;
  /** Flush the data to disk before the rename, so a power cut leaves the old file or the whole new one. */
  sync?: boolean;
}

/**
 * Writes `data` to `path` (creating its folder) so that readers see the old file or the new one, never
 * a part of it: the data goes to a temporary file beside it (unique across processes), then a rename
 * replaces the file. On failure the temporary file is removed and `path` is untouched.
 */
export async function writeFileAtomically(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(temporary, 'w', options.mode);
    try {
      await handle.writeFile(data);
      if (options.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
