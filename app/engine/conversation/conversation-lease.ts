import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';

/** A claim not refreshed for this long belongs to an engine that died or stalled: the next engine takes it over. */
export const LEASE_STALE_MS = 2000;
/** How often the holder refreshes its claim (proper-lockfile's smallest). */
export const LEASE_REFRESH_MS = 1000;
/** How often a waiting engine looks again while another one holds the claim. */
const LEASE_RETRY_MS = 200;

/**
 * One engine's claim on a conversation journal in a data folder that several engines share
 * (scale-out): `<journal>.lock`, a folder made atomically by proper-lockfile and refreshed every
 * second while held, so only the holder appends to the journal. Another engine waits until the
 * holder lets go or stops refreshing (it died: the claim is stale after LEASE_STALE_MS and taken
 * over). A holder whose claim was taken over (it stalled longer than that) is told via `onLost`
 * and must not write again.
 */
export class ConversationLease {
  /** True once held; false when released (or the folder refused) before it could be taken. */
  readonly ready: Promise<boolean>;
  /**
   * Once held, the journal is read back once: another engine may have written it after this one
   * loaded it, or died leaving a line half-written.
   */
  readBack = true;
  /** The claim was taken over after this engine held it. */
  lost = false;
  /** Why the claim could not be taken at all (the folder refused: permissions, a read-only disk). */
  failure: Error | undefined;
  private unlock: (() => Promise<void>) | undefined;
  private released = false;

  constructor(
    private readonly journalPath: string,
    private readonly onLost: (error: Error) => void,
  ) {
    this.ready = this.take();
  }

  /** Whether the claim is held now. */
  get held(): boolean {
    return this.unlock !== undefined && !this.lost;
  }

  /** Lets go of the claim (or stops waiting for it). */
  async release(): Promise<void> {
    this.released = true;
    const held = await this.ready;
    const unlock = this.unlock;
    this.unlock = undefined;
    // Already gone when it was taken over; there is nothing left to remove.
    if (held && unlock && !this.lost) await unlock().catch(() => undefined);
  }

  private async take(): Promise<boolean> {
    while (!this.released) {
      try {
        await mkdir(dirname(this.journalPath), { recursive: true, mode: 0o700 });
        this.unlock = await lockfile.lock(this.journalPath, {
          stale: LEASE_STALE_MS,
          update: LEASE_REFRESH_MS,
          realpath: false,
          onCompromised: (error) => {
            this.lost = true;
            this.onLost(error);
          },
        });
        if (!this.released) return true;
        await this.unlock().catch(() => undefined);
        this.unlock = undefined;
        return false;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
          this.failure = error as Error;
          return false;
        }
        await sleep(LEASE_RETRY_MS);
      }
    }
    return false;
  }
}
