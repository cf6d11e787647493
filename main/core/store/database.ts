import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { migrations } from './migrations/index.js';

export type Db = Database.Database;

export class DatabaseTooNewError extends Error {
  constructor(readonly found: number, readonly known: number) {
    super(`the database is at schema version ${found}, newer than this Latchkey understands (${known}); upgrade Latchkey`);
    this.name = 'DatabaseTooNewError';
  }
}

/**
 * Opens (creating if needed) the broker's SQLite file and brings its schema up to date.
 * WAL for concurrent readers, foreign keys on, a busy timeout for a second process (the CLI, a test),
 * and synchronous=FULL so that a committed audit row survives a power cut, not only a crash.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') {
    // Owner-only from the start; SQLite gives the -wal and -shm files the same mode.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    // Refuse a database from the future before changing anything in it, not even its journal mode.
    refuseNewer(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the numbered migrations not yet applied, all in one transaction (Signal Desktop's discipline). */
export function migrate(db: Db): void {
  const known = migrations.length;
  if (refuseNewer(db) === known) return;
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated since the read above.
    const current = refuseNewer(db);
    for (let version = current + 1; version <= known; version++) {
      db.exec(migrations[version - 1]!);
    }
    db.pragma(`user_version = ${known}`);
  }).immediate();
}

/** The schema version of the file; throws DatabaseTooNewError for one this code does not know. */
function refuseNewer(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) throw new DatabaseTooNewError(current, migrations.length);
  return current;
}
