import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationEntry } from '../../app/shared/conversation.contract';
import { ErrorCode, type AppError } from '../../app/shared/errors.contract';
import { CONVERSATIONS_FOLDER, ConversationJournal, newConversationId } from '../../app/engine/conversation/conversation-journal';
import { exportConversation } from '../../app/engine/conversation/conversation-export';
import { appendJournalLines, parseJournal } from '../../app/engine/conversation/journal-file';

let dataDir = '';
let warnings: string[] = [];
const warn = (warning: string): void => void warnings.push(warning);
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'avatar-journal-'));
  warnings = [];
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const user = (turnId: string, text: string, atMs = 1_000): ConversationEntry => ({ type: 'user', turnId, text, atMs, source: 'text' });
const avatar = (turnId: string, text: string, status: 'complete' | 'interrupted' = 'complete', atMs = 2_000): ConversationEntry => ({ type: 'avatar', turnId, text, atMs, status });
const folder = (): string => join(dataDir, CONVERSATIONS_FOLDER);
const journalFiles = (): string[] => (existsSync(folder()) ? readdirSync(folder()).filter((name) => name.endsWith('.jsonl')).sort() : []);
const lines = (path: string): unknown[] => readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown);

describe('conversation journal', () => {
  it('appends each entry as one JSON line after a header, and reads them back after a restart', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    const conversation = journal.latest();
    expect(journalFiles()).toEqual([]);
    conversation.record(user('t1', 'Hello there.'));
    conversation.record(avatar('t1', 'Hi! How are you?'));
    await conversation.flushed();
    expect(journalFiles()).toEqual([`${conversation.id}.jsonl`]);
    expect(lines(conversation.path!)).toEqual([
      { type: 'conversation', v: 1, conversationId: conversation.id, atMs: conversation.startedAtMs },
      user('t1', 'Hello there.'),
      avatar('t1', 'Hi! How are you?'),
    ]);

    const reopened = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    expect(reopened.id).toBe(conversation.id);
    expect(reopened.startedAtMs).toBe(conversation.startedAtMs);
    expect(reopened.entries).toEqual([user('t1', 'Hello there.'), avatar('t1', 'Hi! How are you?')]);
    expect(reopened.loadWarning).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('keeps the file append-only: a reply cut off after it was written is appended again and replaces the first on read', async () => {
    const conversation = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    conversation.record(user('t1', 'Tell me a story.'));
    conversation.record(avatar('t1', 'Once upon a time there was a fox.'));
    conversation.record(user('t2', 'Next?'));
    await conversation.flushed();
    conversation.record(avatar('t1', 'Once upon a time', 'interrupted'));
    await conversation.flushed();
    expect(conversation.entries.map((entry) => entry.text)).toEqual(['Tell me a story.', 'Once upon a time', 'Next?']);
    expect(lines(conversation.path!)).toHaveLength(5);
    const reopened = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    expect(reopened.entries).toEqual([user('t1', 'Tell me a story.'), avatar('t1', 'Once upon a time', 'interrupted'), user('t2', 'Next?')]);
  });

  it('ignores a torn last line (a crash mid-write), cuts it off, and appends the next entry on a clean line', async () => {
    const conversation = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    conversation.record(user('t1', 'First.'));
    conversation.record(avatar('t1', 'Answer one.'));
    await conversation.flushed();
    const path = conversation.path!;
    appendFileSync(path, '{"type":"user","turnId":"t2","text":"Sec');

    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    const reopened = journal.latest();
    expect(reopened.entries).toEqual([user('t1', 'First.'), avatar('t1', 'Answer one.')]);
    expect(reopened.loadWarning).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('was cut off')]);
    reopened.record(user('t2', 'Second.'));
    await reopened.flushed();
    expect(lines(path)).toHaveLength(4);
    expect((await ConversationJournal.open(dataDir, undefined, warn)).latest().entries.map((entry) => entry.text)).toEqual(['First.', 'Answer one.', 'Second.']);
  });

  it('skips garbage lines, keeps every readable one, and says which lines it skipped', async () => {
    mkdirSync(folder(), { recursive: true });
    const id = newConversationId(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const path = join(folder(), `${id}.jsonl`);
    writeFileSync(
      path,
      [
        JSON.stringify({ type: 'conversation', v: 1, conversationId: id, atMs: 10 }),
        JSON.stringify(user('t1', 'Kept one.')),
        'this is not json at all',
        JSON.stringify({ type: 'user', turnId: 't2' }),
        '\u0000\u0000\u0000',
        JSON.stringify(avatar('t1', 'Kept two.')),
        '',
      ].join('\n'),
    );
    const conversation = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    expect(conversation.id).toBe(id);
    expect(conversation.entries).toEqual([user('t1', 'Kept one.'), avatar('t1', 'Kept two.')]);
    expect(conversation.loadWarning).toMatch(/3 unreadable lines \(lines 3, 4, 5\).*skipped.*everything readable was kept/);
    expect(warnings).toEqual([conversation.loadWarning]);
  });

  it('reads journal bytes without ever throwing (binary noise, an empty file, a complete last line without its newline)', () => {
    expect(parseJournal(new Uint8Array([0xff, 0xfe, 0x00, 0x0a, 0x7b]))).toMatchObject({ entries: [], damagedLines: [1], tornTail: true, completeBytes: 4 });
    expect(parseJournal(new Uint8Array())).toMatchObject({ entries: [], damagedLines: [], tornTail: false });
    const unterminated = new TextEncoder().encode(JSON.stringify(user('t1', 'Whole.')));
    expect(parseJournal(unterminated)).toMatchObject({ entries: [user('t1', 'Whole.')], tornTail: false });
  });

  it('starts a new conversation in a new journal that new sessions continue; the old one stays on disk', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    const first = journal.latest();
    first.record(user('t1', 'Old words.'));
    const second = journal.startNew();
    await Promise.all([first.flushed(), second.flushed()]);
    expect(second.id).not.toBe(first.id);
    expect(second.entries).toEqual([]);
    expect(journalFiles()).toEqual([`${first.id}.jsonl`, `${second.id}.jsonl`]);
    const reopened = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    expect(reopened.id).toBe(second.id);
    expect(reopened.entries).toEqual([]);
  });

  it('gives a second open session a conversation of its own, and the newest to a session opened after the others closed', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    const first = journal.claim();
    first.record(user('t1', 'From the first window.'));
    const second = journal.claim();
    expect(second.id).not.toBe(first.id);
    expect(second.entries).toEqual([]);
    journal.release(first);
    journal.release(second);
    // The newest conversation is the second window's: a reload continues it.
    expect(journal.claim().id).toBe(second.id);
    // A store that keeps nothing (a bare engine) gives every session its own.
    const bare = ConversationJournal.inMemory();
    const a = bare.claim();
    a.record(user('t2', 'Only here.'));
    bare.release(a);
    expect(bare.claim().entries).toEqual([]);
  });

  it('prunes conversations whose last message is older than the retention in days, at start and when the setting changes', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    const old = journal.latest();
    old.record(user('t1', 'Long ago.'));
    await old.flushed();
    const recent = journal.startNew();
    recent.record(user('t1', 'Just now.'));
    await recent.flushed();
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(old.path!, tenDaysAgo, tenDaysAgo);

    await ConversationJournal.open(dataDir, { keep: 'days', days: 30 }, warn);
    expect(journalFiles()).toHaveLength(2);
    const pruned = await ConversationJournal.open(dataDir, { keep: 'days', days: 7 }, warn);
    expect(journalFiles()).toEqual([`${recent.id}.jsonl`]);
    expect(pruned.latest().id).toBe(recent.id);

    utimesSync(recent.path!, tenDaysAgo, tenDaysAgo);
    await pruned.setRetention({ keep: 'days', days: 1 });
    expect(journalFiles()).toEqual([]);
    // A live conversation whose file was pruned writes itself whole again with its next entry.
    const live = pruned.latest();
    live.record(avatar('t1', 'Still here.'));
    await live.flushed();
    expect((await ConversationJournal.open(dataDir, undefined, warn)).latest().entries.map((entry) => entry.text)).toEqual(['Just now.', 'Still here.']);
  });

  it('"don\'t keep" writes nothing and deletes what was kept; keeping again writes the whole conversation', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    journal.latest().record(user('t1', 'Kept until now.'));
    await journal.latest().flushed();
    expect(journalFiles()).toHaveLength(1);

    await journal.setRetention({ keep: 'none' });
    expect(journalFiles()).toEqual([]);
    const conversation = journal.startNew();
    conversation.record(user('t1', 'Private.'));
    conversation.record(avatar('t1', 'Not written.'));
    await conversation.flushed();
    expect(conversation.kept).toBe(false);
    expect(journalFiles()).toEqual([]);
    expect(conversation.entries).toHaveLength(2);

    const unkept = await ConversationJournal.open(dataDir, { keep: 'none' }, warn);
    unkept.latest().record(user('t1', 'Also private.'));
    await unkept.latest().flushed();
    expect(journalFiles()).toEqual([]);
    expect(existsSync(folder())).toBe(true);

    await journal.setRetention({ keep: 'forever' });
    conversation.record(user('t2', 'From now on kept.'));
    await conversation.flushed();
    expect((await ConversationJournal.open(dataDir, undefined, warn)).latest().entries.map((entry) => entry.text)).toEqual(['Private.', 'Not written.', 'From now on kept.']);
  });

  it('reports a full disk once as a typed error, goes on in memory, and writes what was missed once the disk has room', async () => {
    if (!existsSync('/dev/full')) return;
    const conversation = (await ConversationJournal.open(dataDir, undefined, warn)).latest();
    conversation.record(user('t1', 'Before.'));
    await conversation.flushed();
    const path = conversation.path!;
    const saved = readFileSync(path);
    rmSync(path);
    symlinkSync('/dev/full', path);
    const errors: AppError[] = [];
    conversation.onWriteError((error) => errors.push(error));

    conversation.record(avatar('t1', 'During one.'));
    conversation.record(user('t2', 'During two.'));
    await conversation.flushed();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.JournalWriteFailed, recoverable: true });
    expect(errors[0]!.message).toMatch(/disk is full.*goes on in memory/);
    expect(conversation.entries.map((entry) => entry.text)).toEqual(['Before.', 'During one.', 'During two.']);

    rmSync(path);
    writeFileSync(path, saved);
    conversation.record(avatar('t2', 'After.'));
    await conversation.flushed();
    expect(errors).toHaveLength(1);
    expect((await ConversationJournal.open(dataDir, undefined, warn)).latest().entries.map((entry) => entry.text)).toEqual(['Before.', 'During one.', 'During two.', 'After.']);
  });

  it('reports a folder it cannot write to (a file stands where the folder should be) without throwing', async () => {
    const journal = await ConversationJournal.open(dataDir, undefined, warn);
    rmSync(folder(), { recursive: true, force: true });
    writeFileSync(folder(), 'not a folder');
    const errors: AppError[] = [];
    journal.latest().onWriteError((error) => errors.push(error));
    journal.latest().record(user('t1', 'Hello.'));
    await journal.latest().flushed();
    expect(errors.map((error) => error.code)).toEqual([ErrorCode.JournalWriteFailed]);
    // Opening over such a folder is a warning and a fresh conversation, never a crash.
    const reopened = await ConversationJournal.open(dataDir, undefined, warn);
    expect(reopened.latest().entries).toEqual([]);
    expect(warnings.at(-1)).toMatch(/could not be read/);
  });

  it('creates journals readable by the user only', async () => {
    if (process.platform === 'win32') return;
    await appendJournalLines(join(folder(), 'x.jsonl'), [user('t1', 'Mine.')]);
    expect(readFileSync(join(folder(), 'x.jsonl'), 'utf8')).toContain('Mine.');
    const { statSync } = await import('node:fs');
    expect(statSync(join(folder(), 'x.jsonl')).mode & 0o777).toBe(0o600);
  });
});

describe('conversation export', () => {
  const conversation = {
    id: '2026-01-02T03-04-05-678Z-0a1b2c3d',
    startedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    entries: [user('s-t1', 'What is the time?', Date.UTC(2026, 0, 2, 3, 4, 6)), avatar('s-t1', 'It is', 'interrupted', Date.UTC(2026, 0, 2, 3, 4, 7))],
  };

  it('as text: one line per message, who said it, and where the avatar was cut off', () => {
    const exported = exportConversation(conversation, 'text');
    expect(exported.fileName).toBe('conversation-2026-01-02T03-04-05-678Z-0a1b2c3d.txt');
    const text = exported.content.trim().split('\n');
    expect(text).toHaveLength(4);
    expect(text[2]).toMatch(/\] You: What is the time\?$/);
    expect(text[3]).toMatch(/\] Avatar: It is \(interrupted\)$/);
  });

  it('as JSON: every field, times in ISO 8601', () => {
    const exported = exportConversation(conversation, 'json', Date.UTC(2026, 0, 3));
    expect(exported.fileName).toBe('conversation-2026-01-02T03-04-05-678Z-0a1b2c3d.json');
    expect(JSON.parse(exported.content)).toEqual({
      conversationId: conversation.id,
      startedAt: '2026-01-02T03:04:05.678Z',
      exportedAt: '2026-01-03T00:00:00.000Z',
      messages: [
        { role: 'user', turnId: 's-t1', at: '2026-01-02T03:04:06.000Z', atMs: Date.UTC(2026, 0, 2, 3, 4, 6), text: 'What is the time?', source: 'text' },
        { role: 'avatar', turnId: 's-t1', at: '2026-01-02T03:04:07.000Z', atMs: Date.UTC(2026, 0, 2, 3, 4, 7), text: 'It is', heard: 'interrupted' },
      ],
    });
  });
});
