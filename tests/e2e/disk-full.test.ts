import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePidOf } from '../../bench/process-probes';
import { CONVERSATIONS_FOLDER } from '../../app/engine/conversation/conversation-journal';
import { startServeProcess, type ServeProcess } from '../support/serve-process';
import { ServeWsClient } from '../support/serve-ws-client';
import { fixtureCatalog, fixtureLlmEntry } from '../support/fixture-catalog';

/**
 * A full disk: the data folder (settings, kept conversations, models) is a small tmpfs mounted in a
 * mount namespace of the `serve` process alone (`unshare -m`, as root), and the test fills it from
 * outside through /proc/<pid>/root. During a model download and during a settings write the disk
 * fills up: each fails in words, the settings file keeps its last good content, the app answers the
 * next turn (the conversation goes on in memory), and once space is freed the download resumes, the
 * settings save, and the journal holds everything said — including what was said while it was full.
 */

const TMPFS_SIZE = '6m';
const MODEL_BYTES = 3 * 1024 * 1024;

function namespaceSkipReason(): string | null {
  if (process.platform !== 'linux') return 'mount namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs in a mount namespace needs root';
  const probe = mkdtempSync(join(tmpdir(), 'avatar-tmpfs-probe-'));
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0" && umount "$0"', probe], { encoding: 'utf8' });
  rmSync(probe, { recursive: true, force: true });
  return result.status === 0 ? null : `this machine refuses a tmpfs in a new mount namespace: ${(result.stderr || result.error?.message || '').trim()}`;
}
const skipReason = namespaceSkipReason();

const model = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), randomBytes(MODEL_BYTES)]);
let http: Server | undefined;
let serve: ServeProcess | undefined;
let client: ServeWsClient | undefined;
let workDir = '';
let dataDir = '';
/** The data folder as the serve process sees it (its tmpfs), from this process. */
let inside = '';

beforeAll(async () => {
  if (skipReason) return;
  workDir = mkdtempSync(join(tmpdir(), 'avatar-disk-full-'));
  dataDir = join(workDir, 'data');
  mkdirSync(dataDir);
  // Trickled, so the disk can fill while it downloads.
  http = createServer((req, res) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    res.writeHead(range ? 206 : 200, {
      'Content-Length': model.length - start,
      'Content-Type': 'application/octet-stream',
      ...(range ? { 'Content-Range': `bytes ${start}-${model.length - 1}/${model.length}` } : {}),
    });
    let offset = start;
    const timer = setInterval(() => {
      res.write(model.subarray(offset, offset + 128 * 1024));
      offset += 128 * 1024;
      if (offset >= model.length) {
        clearInterval(timer);
        res.end();
      }
    }, 40);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
  const catalogPath = join(workDir, 'catalog.json');
  writeFileSync(
    catalogPath,
    JSON.stringify(fixtureCatalog(fixtureLlmEntry(`http://127.0.0.1:${(http.address() as AddressInfo).port}/model.gguf`, model))),
  );
  serve = await startServeProcess('scripted', ['--data-dir', dataDir], undefined, {
    env: { ...process.env, AVATAR_MODELS_DIR: join(dataDir, 'models'), AVATAR_MODEL_CATALOG: catalogPath },
    prefix: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs "$0" && exec "$@"`, dataDir],
  });
  inside = `/proc/${servePidOf(serve.child.pid!)}/root${dataDir}`;
  client = await ServeWsClient.connect(serve.url);
  await client.open();
}, 180_000);

afterAll(async () => {
  client?.close();
  await serve?.stop();
  http?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const filler = (): string => join(inside, 'filler');

/** Writes until the tmpfs has no room left (again, if something was freed since). */
function fillDisk(): void {
  try {
    appendFileSync(filler(), Buffer.alloc(16 * 1024 * 1024));
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    return;
  }
  throw new Error('the disk did not fill');
}

function journalText(): string {
  const folder = join(inside, CONVERSATIONS_FOLDER);
  return spawnSync('sh', ['-c', 'cat "$0"/*.jsonl', folder], { encoding: 'utf8' }).stdout;
}

describe.skipIf(skipReason !== null)(`a full disk${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('the data folder is the serve process\'s own small tmpfs (the test\'s view of the folder stays empty)', () => {
    expect(existsSync(join(inside, 'settings.json')) || existsSync(join(inside, CONVERSATIONS_FOLDER))).toBe(true);
    expect(existsSync(join(dataDir, CONVERSATIONS_FOLDER))).toBe(false);
  });

  it('fills during a model download and a settings write: both fail in words, the next turn is answered, and all of it recovers once space is freed', { timeout: 120_000 }, async () => {
    const c = client!;
    expect((await c.say('Remember the colour blue.')).status).toBe('complete');

    // The download starts; the disk fills under it.
    let from = c.messages.length;
    c.send({ type: 'models.pull', modelId: 'tiny-llm' });
    await c.waitFor('models.progress', (progress) => progress.receivedBytes > 0, from);
    fillDisk();
    const failed = await c.waitFor('models.done', () => true, from, 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.message).toMatch(/^Downloading tiny-llm\.gguf stopped: the disk is full \(.*\)\. .* MB are kept; make room and run the download again to resume\.$/);

    // A settings write on the full disk: refused in words; the file keeps what it had.
    const settingsPath = join(inside, 'settings.json');
    const before = existsSync(settingsPath) ? readFileSync(settingsPath, 'utf8') : undefined;
    fillDisk();
    from = c.messages.length;
    c.send({ type: 'settings.set', settings: { vad: {}, poolSizes: {}, models: {}, persona: 'You are a patient teacher.' } });
    const refused = await c.waitFor('error', () => true, from);
    expect(refused).toMatchObject({ code: 'internal', recoverable: true });
    expect(refused.message).toMatch(/^The settings could not be saved to .*settings\.json: the disk is full\.$/);
    expect(existsSync(settingsPath) ? readFileSync(settingsPath, 'utf8') : undefined).toBe(before);

    // The conversation goes on in memory, and says the journal could not be written (the lines
    // are longer than the room left in the journal's last tmpfs page).
    fillDisk();
    from = c.messages.length;
    const asked = `Is the disk full? ${'Tell me more. '.repeat(250)}`.trim();
    const whileFull = await c.say(asked);
    expect(whileFull.status).toBe('complete');
    const journalError = await c.waitFor('error', () => true, from, 10_000);
    expect(journalError).toMatchObject({ code: 'journal_write_failed', recoverable: true });
    expect(journalError.message).toMatch(/disk is full.*goes on in memory/);

    // Space again: the download resumes to a verified file, the settings save, the journal catches up.
    unlinkSync(filler());
    from = c.messages.length;
    c.send({ type: 'models.pull', modelId: 'tiny-llm' });
    expect(await c.waitFor('models.done', () => true, from, 60_000)).toMatchObject({ status: 'installed' });
    expect(createHash('sha256').update(readFileSync(join(inside, 'models', 'tiny-llm', 'tiny-llm.gguf'))).digest('hex')).toBe(createHash('sha256').update(model).digest('hex'));
    from = c.messages.length;
    c.send({ type: 'settings.set', settings: { vad: {}, poolSizes: {}, models: {}, persona: 'You are a patient teacher.' } });
    await c.waitFor('settings.current', () => true, from);
    expect(JSON.parse(readFileSync(settingsPath, 'utf8')).persona).toBe('You are a patient teacher.');
    const after = await c.say('And now?');
    expect(after.status).toBe('complete');
    const journal = journalText();
    for (const text of ['Remember the colour blue.', asked, 'And now?', whileFull.heardText]) expect(journal).toContain(JSON.stringify(text).slice(1, -1));
  });
});
