import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { formatMegabytes } from '../../shared/format/bytes';
import { diskWriteProblem } from '../files/write-error';
import { hashFileInto } from './file-hash';

/** One file to fetch into `partPath`, resuming whatever bytes are already there. */
export interface DownloadRequest {
  url: string;
  partPath: string;
  expectedSizeBytes: number | null;
  /** Null: the hash is computed and returned (pin on first download), not checked. */
  expectedSha256: string | null;
  /** Checked too when given (a publisher's md5 or sha1). */
  publishedDigest?: { algorithm: 'md5' | 'sha1'; hex: string } | undefined;
  signal?: AbortSignal | undefined;
  /** Called as bytes arrive: bytes in the part file so far, and the file's size when known. */
  onBytes?: ((receivedBytes: number, totalBytes: number | null) => void) | undefined;
  /** Further attempts after a network failure, each resuming from the part file. */
  retries?: number | undefined;
  /** First backoff delay; doubled for each further attempt. */
  retryDelayMs?: number | undefined;
  /** A connection that delivers nothing for this long is dropped and retried. */
  idleTimeoutMs?: number | undefined;
  fetchImpl?: typeof fetch | undefined;
}

export interface DownloadResult {
  sizeBytes: number;
  sha256: string;
  /** How many HTTP requests were made (1 when nothing failed). */
  requests: number;
}

/** A failure worth another attempt (network cut, server busy). */
class RetryableError extends Error {}

async function partSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Parses `bytes start-end/total` (total may be `*`). */
function parseContentRange(header: string | null): { start: number; total: number | null } | null {
  const match = header?.match(/^bytes (\d+)-\d+\/(\d+|\*)$/);
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) };
}

function sizeMismatch(name: string, offeredBytes: number, expectedBytes: number): AppError {
  return new AppError(
    ErrorCode.ModelInvalid,
    `The server offers ${name} with ${offeredBytes} bytes, but the catalog says ${expectedBytes} bytes; ` +
      'the download was stopped and its partial file deleted.',
    false,
  );
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Downloads `url` into `partPath` with HTTP Range resume, streaming sha256, size checks, retries
 * with exponential backoff and an AbortSignal. On success the part file holds exactly the verified
 * bytes (the caller moves it into place); a corrupted or over-long file is deleted.
 */
export async function downloadResumable(request: DownloadRequest): Promise<DownloadResult> {
  const { url, partPath, expectedSizeBytes, expectedSha256, signal } = request;
  const name = basename(partPath).replace(/\.part$/, '');
  const retries = request.retries ?? 4;
  const retryDelayMs = request.retryDelayMs ?? 1000;
  const idleTimeoutMs = request.idleTimeoutMs ?? 30_000;
  const fetchImpl = request.fetchImpl ?? fetch;

  let requests = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      try {
        await sleep(retryDelayMs * 2 ** (attempt - 1), undefined, { signal });
      } catch (error) {
        throw AppError.from(error);
      }
    }
    signal?.throwIfAborted?.();
    try {
      requests++;
      const result = await attemptOnce();
      return { ...result, requests };
    } catch (error) {
      if (isAbort(error, signal)) {
        throw new AppError(ErrorCode.Cancelled, `The download of ${name} was cancelled; run it again to resume.`, true, {
          cause: error,
        });
      }
      if (!(error instanceof RetryableError)) throw error;
      lastError = error;
    }
  }
  const kept = await partSize(partPath);
  throw new AppError(
    ErrorCode.Internal,
    `Downloading ${name} failed after ${retries + 1} attempts (${(lastError as Error).message}). ` +
      `${formatMegabytes(kept)} are kept; run the download again to resume.`,
    true,
    { cause: lastError },
  );

  async function attemptOnce(): Promise<{ sizeBytes: number; sha256: string }> {
    let offset = await partSize(partPath);
    if (expectedSizeBytes !== null && offset > expectedSizeBytes) {
      await rm(partPath, { force: true });
      offset = 0;
    }
    if (expectedSizeBytes !== null && offset === expectedSizeBytes) return verifyPart(offset);

    // Hash the bytes already there before asking the server, so a slow disk never trips the idle timer.
    const resumedHashes = offset > 0 ? newHashes() : null;
    if (resumedHashes) await hashFileInto(partPath, resumedHashes, signal);

    const idle = new AbortController();
    const requestSignal = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
    let idleTimer = setTimeout(() => idle.abort(), idleTimeoutMs);
    const touch = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => idle.abort(), idleTimeoutMs);
    };

    try {
      let response: Response;
      try {
        response = await fetchImpl(url, {
          headers: { ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}), 'Accept-Encoding': 'identity' },
          redirect: 'follow',
          signal: requestSignal,
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new RetryableError(idle.signal.aborted ? 'the server stopped answering' : describeNetworkError(error));
      }

      if (response.status === 416 && offset > 0) {
        // Nothing after `offset`: the part file may already be whole.
        const range = response.headers.get('content-range')?.match(/^bytes \*\/(\d+)$/);
        await response.body?.cancel();
        if (range && Number(range[1]) === offset) return verifyPart(offset);
        await rm(partPath, { force: true });
        throw new RetryableError('the server rejected the resume point');
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        throw new AppError(ErrorCode.ModelMissing, `${name} is not at ${url} (HTTP ${response.status}).`, false);
      }
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel();
        throw new RetryableError(`HTTP ${response.status}`);
      }
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel();
        throw new AppError(ErrorCode.Internal, `The download of ${name} was refused (HTTP ${response.status} from ${url}).`, true);
      }
      if (!response.body) throw new RetryableError('the response had no body');

      let totalBytes: number | null;
      if (response.status === 206) {
        const range = parseContentRange(response.headers.get('content-range'));
        if (!range || range.start !== offset) {
          await response.body.cancel();
          await rm(partPath, { force: true });
          throw new RetryableError('the server resumed at the wrong place');
        }
        totalBytes = range.total;
      } else {
        // A 200 answer to a Range request: the server cannot resume, so start over.
        offset = 0;
        const length = response.headers.get('content-length');
        totalBytes = length === null ? null : Number(length);
      }
      if (expectedSizeBytes !== null && totalBytes !== null && totalBytes !== expectedSizeBytes) {
        await response.body.cancel();
        await rm(partPath, { force: true });
        throw sizeMismatch(name, totalBytes, expectedSizeBytes);
      }
      const limitBytes = expectedSizeBytes ?? totalBytes;

      const hashes = offset > 0 && resumedHashes ? resumedHashes : newHashes();
      let received = offset;
      request.onBytes?.(received, limitBytes);
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          touch();
          received += chunk.length;
          if (limitBytes !== null && received > limitBytes) {
            done(sizeMismatch(name, received, limitBytes));
            return;
          }
          hashes.update(chunk);
          request.onBytes?.(received, limitBytes);
          done(null, chunk);
        },
      });
      try {
        await pipeline(
          Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
          meter,
          createWriteStream(partPath, { flags: offset > 0 ? 'a' : 'w' }),
          { signal: requestSignal },
        );
      } catch (error) {
        if (error instanceof AppError) {
          await rm(partPath, { force: true });
          throw error;
        }
        if (signal?.aborted) throw error;
        // Trying again cannot help a disk that refuses the bytes: say so at once, keep what was written.
        const diskProblem = diskWriteProblem(error);
        if (diskProblem) {
          throw new AppError(
            ErrorCode.Internal,
            `Downloading ${name} stopped: ${diskProblem} (${dirname(partPath)}). ${formatMegabytes(await partSize(partPath))} are kept; ` +
              'make room and run the download again to resume.',
            true,
            { cause: error },
          );
        }
        throw new RetryableError(idle.signal.aborted ? 'the server stopped sending' : describeNetworkError(error));
      }
      if (limitBytes !== null && received < limitBytes) {
        throw new RetryableError(`the connection closed after ${formatMegabytes(received)} of ${formatMegabytes(limitBytes)}`);
      }
      return finish(received, hashes);
    } finally {
      clearTimeout(idleTimer);
    }
  }

  async function verifyPart(sizeBytes: number): Promise<{ sizeBytes: number; sha256: string }> {
    const hashes = newHashes();
    await hashFileInto(partPath, hashes, signal);
    request.onBytes?.(sizeBytes, sizeBytes);
    return finish(sizeBytes, hashes);
  }

  function newHashes(): { update: (chunk: Buffer) => void; sha256: Hash; published: Hash | null } {
    const sha256 = createHash('sha256');
    const published = request.publishedDigest ? createHash(request.publishedDigest.algorithm) : null;
    return {
      sha256,
      published,
      update(chunk) {
        sha256.update(chunk);
        published?.update(chunk);
      },
    };
  }

  async function finish(
    sizeBytes: number,
    hashes: { sha256: Hash; published: Hash | null },
  ): Promise<{ sizeBytes: number; sha256: string }> {
    const sha256 = hashes.sha256.digest('hex');
    const published = hashes.published?.digest('hex');
    const expected = request.publishedDigest;
    if (expected && published !== expected.hex) {
      await rm(partPath, { force: true });
      throw new AppError(
        ErrorCode.ModelInvalid,
        `The download of ${name} is corrupted: its ${expected.algorithm} is ${published} but should be ${expected.hex}. ` +
          'The damaged file was deleted; run the download again.',
        true,
      );
    }
    if (expectedSha256 !== null && sha256 !== expectedSha256) {
      await rm(partPath, { force: true });
      throw new AppError(
        ErrorCode.ModelInvalid,
        `The download of ${name} is corrupted: its sha256 is ${sha256} but should be ${expectedSha256}. ` +
          'The damaged file was deleted; run the download again.',
        true,
      );
    }
    return { sizeBytes, sha256 };
  }
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : '';
  return detail && !error.message.includes(detail) ? `${error.message}: ${detail}` : error.message;
}
