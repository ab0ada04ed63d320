import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JournalLineSchema, type ConversationEntry, type JournalHeader, type JournalLine } from '../../shared/conversation.contract';

/**
 * One conversation's journal: JSON lines, appended and fsync'ed one batch at a time, so a crash
 * loses at most the line being written. Reading keeps every line that parses; a line cut off by a
 * crash (the last one, with no newline) and lines that are not journal entries are skipped and
 * counted, never fatal.
 */

const NEWLINE = 0x0a;

/** What reading a journal found. */
export interface JournalContents {
  header: JournalHeader | undefined;
  /** The entries in order; a reply journaled again (cut off after it was written) replaces its first line in place. */
  entries: ConversationEntry[];
  /** 1-based numbers of the lines that could not be read (not JSON, or not a journal entry). */
  damagedLines: number[];
  /** The file ends in a line cut off while it was written (a crash): it is not an entry. */
  tornTail: boolean;
  /** Bytes up to the end of the last complete line: what stays when the torn tail is cut off. */
  completeBytes: number;
}

/** The key under which a later line replaces an earlier one: one user entry and one reply per turn. */
function entryKey(entry: ConversationEntry): string {
  return `${entry.type}:${entry.turnId}`;
}

function parseLine(text: string): JournalLine | undefined {
  try {
    const parsed = JournalLineSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Reads journal bytes (see JournalContents); never throws. */
export function parseJournal(bytes: Uint8Array): JournalContents {
  const lastNewline = bytes.lastIndexOf(NEWLINE);
  const tail = new TextDecoder().decode(bytes.subarray(lastNewline + 1));
  const tailLine = tail.trim() === '' ? undefined : parseLine(tail);
  // A last line without its newline that still parses was complete (only the newline is missing).
  const tornTail = tail.trim() !== '' && tailLine === undefined;
  const completeBytes = tornTail ? lastNewline + 1 : bytes.length;
  const lines = new TextDecoder().decode(bytes.subarray(0, completeBytes)).split('\n');

  let header: JournalHeader | undefined;
  const entries: ConversationEntry[] = [];
  const positions = new Map<string, number>();
  const damagedLines: number[] = [];
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    const line = parseLine(text);
    if (!line) {
      damagedLines.push(index + 1);
      return;
    }
    if (line.type === 'conversation') {
      header ??= line;
      return;
    }
    const key = entryKey(line);
    const at = positions.get(key);
    if (at === undefined) {
      positions.set(key, entries.length);
      entries.push(line);
    } else {
      entries[at] = line;
    }
  });
  return { header, entries, damagedLines, tornTail, completeBytes };
}

/** Reads a journal file; rejects only when the file cannot be read at all (missing, no permission). */
export async function readJournalFile(path: string): Promise<JournalContents> {
  return parseJournal(await readFile(path));
}

/** Cuts a torn last line off, so the next append starts on a line of its own. */
export async function cutTornTail(path: string, contents: JournalContents): Promise<void> {
  if (contents.tornTail) await truncate(path, contents.completeBytes);
}

/** Whether the file ends mid-line (an append must then start with a newline); false when it is empty or missing. */
async function endsMidLine(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== NEWLINE;
  } finally {
    await handle.close();
  }
}

/** Flushes a folder, so a new file's name survives a power cut (not possible on every platform). */
async function syncFolder(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open a folder for flushing; the file's own data is flushed either way.
  }
}

/**
 * Appends lines to a journal (created with mode 0600, its folder too) and waits until they are on
 * disk (fsync). A file that ends mid-line (a crash, a failed write) gets a newline first, so the
 * new lines are never glued to a broken one.
 */
export async function appendJournalLines(path: string, lines: readonly JournalLine[]): Promise<void> {
  if (lines.length === 0) return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const prefix = (await endsMidLine(path)) ? '\n' : '';
  const handle = await open(path, 'a', 0o600);
  let created: boolean;
  try {
    created = (await handle.stat()).size === 0;
    await handle.appendFile(`${prefix}${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await syncFolder(dirname(path));
}
