import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationEntry } from '../../app/shared/conversation.contract';
import { ErrorCode, type AppError } from '../../app/shared/errors.contract';
import { CONVERSATIONS_FOLDER, ConversationJournal, newConversationId } from '../../app/engine/conversation/conversation-journal';
import { appendJournalLines } from '../../app/engine/conversation/journal-file';
import { LEASE_REFRESH_MS, LEASE_STALE_MS } from '../../app/engine/conversation/conversation-lease';

/**
 * Two engines on one data folder (scale-out): each journal is written by one engine at a time.
 * Two journal stores in this process stand for the two engines; the lease is a folder on disk, as
 * between processes (tests/integration/scaleout.test.ts kills real engines).
 */

let dataDir = '';
const open: ConversationJournal[] = [];
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'avatar-shared-journal-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((journal) => journal.releaseAll()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function engine(): Promise<ConversationJournal> {
  const journal = await ConversationJournal.open(dataDir, undefined, () => undefined, { shared: true });
  open.push(journal);
  return journal;
}

const user = (turnId: string, text: string): ConversationEntry => ({ type: 'user', turnId, text, atMs: 1_000, source: 'text' });
const texts = (entries: readonly ConversationEntry[]): string[] => entries.map((entry) => entry.text);
const fileTexts = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; text?: string })
    .filter((line) => line.type !== 'conversation')
    .map((line) => line.text!);

describe('conversations in a data folder shared by several engines', () => {
  it('a session without a conversation id gets a new one, never the newest (another engine may hold it)', async () => {
    const a = await engine();
    const first = await a.claimById(newConversationId());
    first.record(user('a-t1', 'On engine A.'));
    await first.flushed();
    const b = await engine();
    expect(b.claim().id).not.toBe(first.id);
  });

  it('continues a named conversation from the journal another engine wrote, and writes only once that engine lets go', async () => {
    const id = newConversationId();
    const a = await engine();
    const onA = await a.claimById(id);
    onA.record(user('a-t1', 'Hello from A.'));
    await onA.flushed();

    const b = await engine();
    const onB = await b.claimById(id);
    expect(texts(onB.entries)).toEqual(['Hello from A.']);
    onB.record(user('b-t1', 'Hello from B.'));
    // A still holds the lease and writes on; B's entry waits.
    onA.record(user('a-t2', 'A again.'));
    await onA.flushed();
    await sleep(LEASE_REFRESH_MS);
    expect(fileTexts(onA.path!)).toEqual(['Hello from A.', 'A again.']);

    a.release(onA);
    await onB.flushed();
    expect(fileTexts(onB.path!)).toEqual(['Hello from A.', 'A again.', 'Hello from B.']);
    // What A wrote after B had read the journal was read back when B took the lease.
    expect(texts(onB.entries)).toEqual(['Hello from A.', 'Hello from B.', 'A again.']);
  });

  it('takes over a stale lease at once (its engine died) and cuts the line it left half-written', async () => {
    // What a killed engine leaves: its journal with a line cut off, and its lease folder, no longer refreshed.
    const id = newConversationId();
    const path = join(dataDir, CONVERSATIONS_FOLDER, `${id}.jsonl`);
    await appendJournalLines(path, [{ type: 'conversation', v: 1, conversationId: id, atMs: 1_000 }, user('a-t1', 'Before the crash.')]);
    appendFileSync(path, '{"type":"user","turnId":"a-t2","te');
    mkdirSync(`${path}.lock`);
    const longAgo = new Date(Date.now() - 10 * LEASE_STALE_MS);
    utimesSync(`${path}.lock`, longAgo, longAgo);

    const b = await engine();
    const onB = await b.claimById(id);
    expect(texts(onB.entries)).toEqual(['Before the crash.']);
    onB.record(user('b-t1', 'After the crash.'));
    await onB.flushed();
    expect(fileTexts(path)).toEqual(['Before the crash.', 'After the crash.']);
  });

  it('an engine whose lease was taken over (it stalled) stops writing and says so', async () => {
    const id = newConversationId();
    const a = await engine();
    const onA = await a.claimById(id);
    const errors: AppError[] = [];
    onA.onWriteError((error) => errors.push(error));
    onA.record(user('a-t1', 'Mine.'));
    await onA.flushed();
    // Another engine found the lease stale and took it: the folder is no longer A's.
    const lockDir = `${onA.path!}.lock`;
    rmSync(lockDir, { recursive: true });
    mkdirSync(lockDir);
    await sleep(LEASE_REFRESH_MS * 2.5);
    onA.record(user('a-t2', 'Not written.'));
    await onA.flushed();
    expect(fileTexts(onA.path!)).toEqual(['Mine.']);
    expect(errors.map((error) => error.code)).toEqual([ErrorCode.JournalWriteFailed]);
    expect(errors[0]!.message).toMatch(/Another engine took over/);
    expect(existsSync(lockDir)).toBe(true);
  });

  it('a session closed while a dead engine’s lease goes stale still gets its entries written', async () => {
    // The engine died just now: its lease folder is fresh and nobody refreshes it.
    const id = newConversationId();
    const path = join(dataDir, CONVERSATIONS_FOLDER, `${id}.jsonl`);
    await appendJournalLines(path, [{ type: 'conversation', v: 1, conversationId: id, atMs: 1_000 }, user('a-t1', 'Before the crash.')]);
    mkdirSync(`${path}.lock`);

    const b = await engine();
    const onB = await b.claimById(id);
    onB.record(user('b-t1', 'Said and gone.'));
    b.release(onB);
    await onB.flushed();
    expect(fileTexts(path)).toEqual(['Before the crash.', 'Said and gone.']);
    await expect.poll(() => existsSync(`${path}.lock`)).toBe(false);
  });

  it('an engine that stops does not wait for a lease a live engine keeps, and writes nothing', async () => {
    const id = newConversationId();
    const a = await engine();
    const onA = await a.claimById(id);
    onA.record(user('a-t1', 'Mine.'));
    await onA.flushed();
    const b = await engine();
    const onB = await b.claimById(id);
    onB.record(user('b-t1', 'Not while A holds it.'));
    // Resolves (an engine stopping does not wait for another engine's lease), and B wrote nothing.
    await b.releaseAll();
    await onB.flushed();
    expect(fileTexts(onA.path!)).toEqual(['Mine.']);
    expect(existsSync(`${onA.path!}.lock`)).toBe(true);
  });

  it('a reload on the same engine continues the same conversation object (one writer)', async () => {
    const id = newConversationId();
    const a = await engine();
    const first = await a.claimById(id);
    const second = await a.claimById(id);
    expect(second).toBe(first);
  });
});
