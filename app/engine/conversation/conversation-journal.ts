import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConversationIdSchema, type ConversationEntry, type JournalLine } from '../../shared/conversation.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { describeWriteError } from '../files/write-error';
import type { ConversationRetention } from '../../shared/settings.contract';
import { ConversationLease, LEASE_STALE_MS } from './conversation-lease';
import { appendJournalLines, cutTornTail, readJournalFile } from './journal-file';

/** The folder inside the data folder that holds one journal per conversation. */
export const CONVERSATIONS_FOLDER = 'conversations';
const JOURNAL_SUFFIX = '.jsonl';
const DAY_MS = 86_400_000;
const KEEP_FOREVER: ConversationRetention = { keep: 'forever' };

/** A new conversation id: its start time (so names sort by age) and 8 random hex digits. */
export function newConversationId(nowMs: number = Date.now()): string {
  return `${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/** The start time in a conversation id (epoch ms). */
function idTimeMs(conversationId: string): number {
  const [, date, hours, minutes, seconds, millis] = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(conversationId) ?? [];
  return Date.parse(`${date}T${hours}:${minutes}:${seconds}.${millis}Z`) || 0;
}

/**
 * One conversation: its entries in memory (what sessions restore and export) and, when kept, its
 * journal on disk. `record` never waits and never throws: entries are appended in order behind
 * one another; a failed append is reported to the listeners once (until one succeeds again) and
 * retried with the next entry, while the conversation goes on in memory.
 */
export class Conversation {
  /** What was wrong with the journal when it was loaded (unreadable lines were skipped), in words. */
  readonly loadWarning: string | undefined;
  private readonly items: ConversationEntry[];
  private readonly positions = new Map<string, number>();
  private readonly listeners = new Set<(error: AppError) => void>();
  private pending: ConversationEntry[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** The journal holds this conversation's header (as of the journal folder's `generation`). */
  private onDisk: boolean;
  private diskGeneration: number;
  private failing = false;
  /** The lease was taken over by another engine: this one stopped writing and said so. */
  private leaseLost = false;

  constructor(
    readonly id: string,
    readonly startedAtMs: number,
    /** The folder's journal store; undefined: this conversation lives in memory only. */
    private readonly journal: ConversationJournal | undefined,
    options: { entries?: readonly ConversationEntry[]; onDisk?: boolean; loadWarning?: string } = {},
  ) {
    this.items = [];
    for (const entry of options.entries ?? []) this.upsert(entry);
    this.onDisk = options.onDisk ?? false;
    this.diskGeneration = journal?.generation ?? 0;
    this.loadWarning = options.loadWarning;
  }

  /** The entries in order (a reply recorded again replaces its first version in place). */
  get entries(): readonly ConversationEntry[] {
    return this.items;
  }

  /** Whether this conversation belongs to the journal folder (written while the retention keeps conversations). */
  get journaled(): boolean {
    return this.journal !== undefined;
  }

  /** Whether this conversation is written to disk (not: in memory only, or retention "don't keep"). */
  get kept(): boolean {
    return this.journal?.keeping ?? false;
  }

  /** The journal file (also when it is not written). */
  get path(): string | undefined {
    return this.journal?.pathOf(this.id);
  }

  /** Adds an entry (or replaces the turn's earlier one of its type) and appends it to the journal. */
  record(entry: ConversationEntry): void {
    this.upsert(entry);
    if (!this.journal) return;
    this.pending.push(entry);
    this.writeSoon();
  }

  /** Writes the journal's first line now (a conversation started on purpose is found after a restart even before it has turns). */
  begin(): void {
    if (this.journal) this.writeSoon();
  }

  /** Calls `listener` when an append fails; returns the unsubscribe. */
  onWriteError(listener: (error: AppError) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every entry recorded so far has been written or has failed. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private upsert(entry: ConversationEntry): void {
    const key = `${entry.type}:${entry.turnId}`;
    const at = this.positions.get(key);
    if (at === undefined) {
      this.positions.set(key, this.items.length);
      this.items.push(entry);
    } else {
      this.items[at] = entry;
    }
  }

  private writeSoon(): void {
    this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    const journal = this.journal!;
    const path = journal.pathOf(this.id);
    if (!journal.keeping) {
      this.pending = [];
      return;
    }
    // Kept files were deleted since this one was written (retention): the whole conversation goes back if its file went.
    if (this.onDisk && this.diskGeneration !== journal.generation) {
      this.diskGeneration = journal.generation;
      this.onDisk = await access(path).then(
        () => true,
        () => false,
      );
    }
    if (journal.shared && !(await this.holdLease(journal, path))) return;
    const whole = !this.onDisk;
    const entries = whole ? [...this.items] : this.pending;
    this.pending = [];
    const lines: JournalLine[] = whole ? [{ type: 'conversation', v: 1, conversationId: this.id, atMs: this.startedAtMs }, ...entries] : entries;
    if (lines.length === 0) return;
    try {
      await appendJournalLines(path, lines);
      this.onDisk = true;
      this.diskGeneration = journal.generation;
      this.failing = false;
    } catch (error) {
      // Not written: an incremental batch is tried again with the next entry (a whole rewrite always takes everything).
      if (!whole) this.pending = [...entries, ...this.pending];
      if (this.failing) return;
      this.failing = true;
      const reason = describeWriteError(error);
      const appError = new AppError(
        ErrorCode.JournalWriteFailed,
        `This conversation could not be saved to ${path} (${reason}); it goes on in memory, and saving is tried again with the next message.`,
        true,
        { cause: error },
      );
      for (const listener of this.listeners) listener(appError);
    }
  }

  /**
   * A shared folder: waits until this engine holds the journal's lease, then reads the journal back
   * once: what another engine wrote since it was loaded, and a line a dead one left half-written (cut). False: do
   * not write (the lease was let go before it was held, or taken over by another engine).
   */
  private async holdLease(journal: ConversationJournal, path: string): Promise<boolean> {
    const lease = journal.leaseOf(this);
    if (!lease || !(await lease.ready)) {
      if (lease?.failure && !this.failing) {
        this.failing = true;
        const appError = new AppError(
          ErrorCode.JournalWriteFailed,
          `This conversation could not be saved to ${path} (${describeWriteError(lease.failure)}); it goes on in memory.`,
          true,
          { cause: lease.failure },
        );
        for (const listener of this.listeners) listener(appError);
      }
      this.pending = [];
      return false;
    }
    if (lease.lost) {
      this.pending = [];
      if (!this.leaseLost) {
        this.leaseLost = true;
        const appError = new AppError(
          ErrorCode.JournalWriteFailed,
          `Another engine took over this conversation (${path}) while this one was not responding; this one no longer saves it. Reload the page to continue it there.`,
          false,
        );
        for (const listener of this.listeners) listener(appError);
      }
      return false;
    }
    if (lease.readBack) {
      lease.readBack = false;
      const contents = await readJournalFile(path).catch(() => undefined);
      if (contents) {
        await cutTornTail(path, contents);
        for (const entry of contents.entries) if (!this.positions.has(`${entry.type}:${entry.turnId}`)) this.upsert(entry);
        this.onDisk = this.onDisk || contents.header !== undefined;
      }
    }
    return true;
  }
}

/**
 * The conversations folder (`<data dir>/conversations/<id>.jsonl`): which conversation a new
 * session continues (the newest), new conversations, and retention — kept forever, for a number of
 * days after the last message (by the file's modification time), or not at all (nothing is written
 * and kept journals are deleted).
 */
export class ConversationJournal {
  /** Bumped whenever kept journals are deleted: live conversations then check that their file is still there. */
  generation = 0;
  private last: Conversation;
  /** Conversations open sessions hold, with how many hold each. */
  private readonly held = new Map<Conversation, number>();
  /** A shared folder: this engine's lease on each conversation it holds (or still writes). */
  private readonly leases = new Map<Conversation, ConversationLease>();
  /** The newest conversation's start: a new one starts later (ids must sort, even within a millisecond or with the clock set back). */
  private newestMs = 0;

  private constructor(
    /** Undefined: nothing is ever written (a bare engine: tests, benches, the CLI). */
    readonly dir: string | undefined,
    private retention: ConversationRetention,
    /** Other engines use this folder too (scale-out): conversations are leased per journal, never continued by default. */
    readonly shared = false,
  ) {
    this.last = this.fresh();
  }

  /** A store that keeps nothing: every conversation lives in memory only. */
  static inMemory(): ConversationJournal {
    return new ConversationJournal(undefined, { keep: 'none' });
  }

  /**
   * Opens the folder in `dataDir`: applies the retention, then loads the newest conversation (what
   * can be read of it; its damaged lines are named in `loadWarning`). Never rejects: a folder that
   * cannot be read is a warning (via `onWarning`) and a fresh conversation.
   */
  static async open(
    dataDir: string,
    retention: ConversationRetention | undefined,
    onWarning: (warning: string) => void,
    options: { shared?: boolean } = {},
  ): Promise<ConversationJournal> {
    const journal = new ConversationJournal(join(dataDir, CONVERSATIONS_FOLDER), retention ?? KEEP_FOREVER, options.shared ?? false);
    try {
      await journal.applyRetention();
      // Shared: the newest conversation may be another engine's; a session names the one it continues.
      if (!journal.shared) journal.last = await journal.loadNewest(onWarning);
    } catch (error) {
      onWarning(`The saved conversations in ${journal.dir} could not be read (${(error as Error).message}); a new conversation starts.`);
    }
    return journal;
  }

  /** Whether conversations are written to disk now. */
  get keeping(): boolean {
    return this.dir !== undefined && this.retention.keep !== 'none';
  }

  /** The journal file of a conversation. */
  pathOf(conversationId: string): string {
    return join(this.dir ?? '', `${conversationId}${JOURNAL_SUFFIX}`);
  }

  /** The conversation a new session continues: the newest one. */
  latest(): Conversation {
    return this.last;
  }

  /**
   * The conversation a new session takes, held until `release`: the newest one, unless an open
   * session already holds it — then a new one, so two windows never write into one journal. A store
   * that keeps nothing (a bare engine: tests, benches, the CLI) gives each session its own.
   */
  claim(): Conversation {
    if (this.dir === undefined) return this.hold(this.detached());
    return this.hold(this.held.has(this.last) || this.shared ? this.startNew() : this.last);
  }

  /**
   * The conversation a session names (a page or client that keeps its id, a load balancer's
   * affinity key), held until `release`: the one open here if a session holds it, else read from its
   * journal (another engine may have written it: failover), else a new one with that id. Never
   * rejects: a journal that cannot be read is a warning and the conversation starts empty.
   */
  async claimById(conversationId: string, onWarning: (warning: string) => void = () => undefined): Promise<Conversation> {
    const open = (): Conversation | undefined => [...this.held.keys(), ...this.leases.keys(), this.last].find((conversation) => conversation.id === conversationId);
    const already = open();
    if (already) return this.hold(already);
    if (this.dir === undefined) return this.hold(new Conversation(conversationId, idTimeMs(conversationId) || Date.now(), undefined));
    let loaded: Conversation;
    try {
      loaded = await this.load(conversationId, onWarning);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onWarning(`The saved conversation ${this.pathOf(conversationId)} could not be read (${(error as Error).message}); it starts empty.`);
      loaded = new Conversation(conversationId, idTimeMs(conversationId) || Date.now(), this);
    }
    // Another session may have opened it while this one read the file.
    return this.hold(open() ?? loaded);
  }

  /** Marks `conversation` as held by one more open session (in a shared folder: leased by this engine). */
  hold(conversation: Conversation): Conversation {
    this.held.set(conversation, (this.held.get(conversation) ?? 0) + 1);
    if (this.shared && conversation.journaled && !this.leases.has(conversation)) {
      this.leases.set(conversation, new ConversationLease(this.pathOf(conversation.id), () => undefined));
    }
    return conversation;
  }

  /** A session let go of `conversation` (it closed, or started a new one); the lease goes once what it recorded is written. */
  release(conversation: Conversation): void {
    const holders = (this.held.get(conversation) ?? 0) - 1;
    if (holders > 0) {
      this.held.set(conversation, holders);
      return;
    }
    this.held.delete(conversation);
    const lease = this.leases.get(conversation);
    if (!lease) return;
    const letGo = (): void => {
      if (this.held.has(conversation) || this.leases.get(conversation) !== lease) return;
      this.leases.delete(conversation);
      void lease.release();
    };
    if (lease.held) {
      void conversation.flushed().then(letGo);
      return;
    }
    // Still waiting for another engine's lease: a dead engine's goes stale within LEASE_STALE_MS, so
    // keep waiting a little for what this session recorded to be written; a live holder keeps it,
    // and then those entries stay in memory only.
    const giveUp = setTimeout(letGo, 3 * LEASE_STALE_MS);
    giveUp.unref();
    void lease.ready.then((held) => {
      if (!held) return;
      clearTimeout(giveUp);
      void conversation.flushed().then(letGo);
    });
  }

  /** This engine's lease on a conversation of a shared folder. */
  leaseOf(conversation: Conversation): ConversationLease | undefined {
    return this.leases.get(conversation);
  }

  /** Lets go of every lease (the engine stops): other engines can continue these conversations at once. */
  async releaseAll(): Promise<void> {
    const leases = [...this.leases.entries()];
    // Leases still waiting for another engine stop waiting first (their writes then give up), so no flush waits on them.
    await Promise.all(leases.filter(([, lease]) => !lease.held).map(([, lease]) => lease.release()));
    await Promise.all(leases.map(([conversation]) => conversation.flushed()));
    this.leases.clear();
    await Promise.all(leases.map(([, lease]) => lease.release()));
  }

  /** Starts a new conversation, written at once when kept (the old one stays on disk); new sessions continue it. */
  startNew(): Conversation {
    this.last = this.fresh();
    this.last.begin();
    return this.last;
  }

  /** A conversation that is never kept (a remote talker's). */
  detached(): Conversation {
    return new Conversation(newConversationId(), Date.now(), undefined);
  }

  /** A new retention: applied at once (old journals pruned, all deleted for "don't keep"). */
  async setRetention(retention: ConversationRetention | undefined): Promise<void> {
    this.retention = retention ?? KEEP_FOREVER;
    await this.applyRetention();
  }

  /** Deletes journals the retention no longer allows; returns how many. */
  async applyRetention(nowMs: number = Date.now()): Promise<number> {
    if (!this.dir || this.retention.keep === 'forever') return 0;
    const cutoffMs = this.retention.keep === 'days' ? nowMs - this.retention.days * DAY_MS : Number.POSITIVE_INFINITY;
    let deleted = 0;
    for (const name of await this.journalNames()) {
      const path = join(this.dir, name);
      const modifiedMs = await stat(path).then(
        (stats) => stats.mtimeMs,
        () => undefined,
      );
      if (modifiedMs === undefined || modifiedMs >= cutoffMs) continue;
      await rm(path, { force: true });
      deleted++;
    }
    if (deleted > 0) this.generation++;
    return deleted;
  }

  private fresh(): Conversation {
    const nowMs = Math.max(Date.now(), this.newestMs + 1);
    this.newestMs = nowMs;
    return new Conversation(newConversationId(nowMs), nowMs, this.dir === undefined ? undefined : this);
  }

  /** Journal file names in the folder, oldest first (ids sort by start time). */
  private async journalNames(): Promise<string[]> {
    if (!this.dir) return [];
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = await readdir(this.dir);
    return names.filter((name) => name.endsWith(JOURNAL_SUFFIX) && ConversationIdSchema.safeParse(name.slice(0, -JOURNAL_SUFFIX.length)).success).sort();
  }

  private async loadNewest(onWarning: (warning: string) => void): Promise<Conversation> {
    const newest = (await this.journalNames()).at(-1);
    if (!newest) return this.fresh();
    const id = newest.slice(0, -JOURNAL_SUFFIX.length);
    this.newestMs = Math.max(this.newestMs, idTimeMs(id));
    return this.load(id, onWarning);
  }

  /** A conversation read from its journal; rejects when the file cannot be read (ENOENT: there is none). */
  private async load(id: string, onWarning: (warning: string) => void): Promise<Conversation> {
    const path = this.pathOf(id);
    const contents = await readJournalFile(path);
    // Shared: only the lease holder may cut, and it does so when it takes the lease (see Conversation.holdLease).
    if (contents.tornTail && !this.shared) {
      // The app stopped while writing that line: it was never a whole entry. Cut off, the next append starts clean.
      await cutTornTail(path, contents);
      onWarning(`The last line of ${path} was cut off (the app stopped while writing it); it was dropped.`);
    }
    let loadWarning: string | undefined;
    if (contents.damagedLines.length > 0) {
      const count = contents.damagedLines.length;
      const shown = contents.damagedLines.slice(0, 10).join(', ');
      loadWarning = `The saved conversation ${path} has ${count} unreadable line${count === 1 ? '' : 's'} (line${count === 1 ? '' : 's'} ${shown}${count > 10 ? ', …' : ''}); they were skipped and everything readable was kept.`;
      onWarning(loadWarning);
    }
    const startedAtMs = contents.header?.atMs ?? contents.entries[0]?.atMs ?? Date.now();
    return new Conversation(id, startedAtMs, this, { entries: contents.entries, onDisk: true, ...(loadWarning ? { loadWarning } : {}) });
  }
}
