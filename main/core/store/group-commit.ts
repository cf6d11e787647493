import { closeSync, fdatasync, openSync } from 'node:fs';
import type { Db } from './database.js';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: writes that must be on disk before a response leaves (an issued token and its audit
 * row) are queued and committed together, one transaction and one fsync per turn of the event loop
 * instead of one per request. Each write runs in a savepoint of its own, so one that fails rolls back
 * alone; if the COMMIT or the fsync fails, every write in the group is refused.
 *
 * Durability is that of `synchronous = FULL` without its stall: in WAL mode FULL means "NORMAL, then
 * fsync the WAL after each commit" (sqlite.org/pragma.html#pragma_synchronous). Here the group commits
 * under NORMAL, which writes the WAL frames but does not sync them, and the WAL is then fdatasync'ed on
 * libuv's thread pool; each caller's promise settles only after that sync, so nothing is answered before
 * its record is durable, and the event loop keeps serving requests while the disk works. Every other
 * write on the connection keeps FULL. A checkpoint that recycles the WAL syncs what it copied first, so
 * frames overwritten before our sync are already in the database file.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly commit;
  private readonly relaxed;
  private readonly strict;
  private wal: number | undefined;
  private unsynced: Array<(syncError: unknown) => void> = [];
  private syncing = false;

  constructor(private readonly db: Db, private readonly walFile: string | null) {
    // Nested better-sqlite3 transactions are savepoints; the outer one is BEGIN IMMEDIATE … COMMIT.
    this.commit = db.transaction((batch: Pending[], outcomes: Outcome[]) => {
      for (const item of batch) {
        try {
          outcomes.push({ ok: true, value: db.transaction(item.work)() });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
    this.relaxed = db.prepare('PRAGMA synchronous = NORMAL');
    this.strict = db.prepare('PRAGMA synchronous = FULL');
  }

  /** Runs `work` inside the next group transaction; resolves once that transaction is durable. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const outcomes: Outcome[] = [];
    try {
      this.commitDeferringSync(batch, outcomes);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    const settle = (syncError: unknown): void => {
      batch.forEach((item, index) => {
        const outcome = outcomes[index]!;
        if (syncError) item.reject(syncError);
        else if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    };
    if (this.wal === undefined) return settle(null);
    this.unsynced.push(settle);
    if (!this.syncing) this.sync(this.wal);
  }

  /**
   * One fdatasync at a time: a sync covers every group committed before it started, and groups that
   * commit while it runs wait for the next one. Syncs issued side by side would queue in the kernel
   * anyway, and hold thread-pool threads that signing needs.
   */
  private sync(wal: number): void {
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    fdatasync(wal, (error) => {
      this.syncing = false;
      for (const settle of covered) settle(error);
      if (this.unsynced.length > 0 && this.wal !== undefined) this.sync(this.wal);
    });
  }

  private commitDeferringSync(batch: Pending[], outcomes: Outcome[]): void {
    if (this.walFile === null) {
      // An in-memory database has no file to sync.
      this.commit.immediate(batch, outcomes);
      return;
    }
    this.relaxed.run();
    try {
      this.commit.immediate(batch, outcomes);
    } finally {
      this.strict.run();
    }
    // The WAL exists once anything was committed; SQLite deletes it only when the last connection
    // closes, and this one stays open, so one descriptor serves for the broker's life.
    this.wal ??= openSync(this.walFile, 'r+');
  }

  /** Closes the WAL descriptor; call before closing the database. */
  close(): void {
    if (this.wal !== undefined) {
      try {
        closeSync(this.wal);
      } finally {
        this.wal = undefined;
      }
    }
  }
}
