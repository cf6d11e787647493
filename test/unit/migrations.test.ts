// Storage: the SQLite file, its pragmas, its permissions and the migration discipline (DESIGN.md §5).
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../main/core/broker.js';
import { silentLogger } from '../../main/core/logger.js';
import { DatabaseTooNewError, openDatabase, type Db } from '../../main/core/store/database.js';
import { migrations } from '../../main/core/store/migrations/index.js';
import { TEST_PASSPHRASE, TEST_SCRYPT } from '../support/broker.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const schemaOf = (db: Db): unknown[] => db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();

describe('storage', () => {
  let dir: string;
  let file: string;
  const open: Db[] = [];
  const track = (db: Db): Db => {
    open.push(db);
    return db;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-store-'));
    file = join(dir, 'latchkey.db');
  });
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens with WAL, foreign keys on, a busy timeout and synchronous=FULL', () => {
    const db = track(openDatabase(file));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    // 2 = FULL: a committed audit row survives a power cut, not only a crash.
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // WAL is a property of the file: a second, raw connection finds it too.
    const raw = track(new Database(file));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('007 turns each application\'s impersonation permission into the Cedar policy that now permits it', () => {
    const raw = track(new Database(file));
    raw.exec(migrations.slice(0, 5).join('\n'));
    raw.pragma('user_version = 5');
    const insert = raw.prepare("INSERT INTO applications (client_id, name, identity_type, client_type, auth_method, grant_types, allow_impersonation, created_at) VALUES (?, ?, 'service', 'confidential', 'client_secret_basic', '[]', ?, 0)");
    insert.run('app_allowed', 'Allowed', 1);
    insert.run('app_not', 'Not', 0);
    raw.close();
    const db = track(openDatabase(file));
    const rows = db.prepare('SELECT id, text, client_id, added_version, removed_version FROM policies').all();
    expect(rows).toEqual([{
      id: 'pol_impersonation_app_allowed', client_id: 'app_allowed', added_version: 1, removed_version: null,
      text: 'permit (principal == Application::"app_allowed", action == Action::"impersonation", resource);',
    }]);
  });

  it('enforces foreign keys (a secret for an unknown application is refused)', () => {
    const db = track(openDatabase(file));
    expect(() => db.prepare("INSERT INTO client_secrets (id, client_id, secret_hash, created_at) VALUES ('s', 'app_nobody', x'00', 0)").run())
      .toThrow(/FOREIGN KEY/);
  });

  it('applies every migration and records the schema version in PRAGMA user_version', () => {
    const db = track(openDatabase(file));
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(['users', 'applications', 'resources', 'api_keys', 'issued_tokens', 'vault_meta', 'vault_items', 'signing_keys', 'audit_log']));
  });

  it('reopening is idempotent: same schema, same data, same version', () => {
    const first = openDatabase(file);
    first.prepare("INSERT INTO users (id, name, email, created_at) VALUES ('usr_1', 'Ada', 'ada@example.test', 1)").run();
    const schema = schemaOf(first);
    first.close();
    for (let i = 0; i < 2; i++) {
      const again = openDatabase(file);
      expect(again.pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(schemaOf(again)).toEqual(schema);
      expect(again.prepare('SELECT name FROM users').all()).toEqual([{ name: 'Ada' }]);
      again.close();
    }
  });

  it('applies the migrations in one transaction: a failure part-way leaves nothing behind', () => {
    // A table the first migration creates near its end already exists, so the migration fails late.
    const raw = new Database(file);
    raw.exec('CREATE TABLE audit_log (x INTEGER)');
    raw.close();
    expect(() => openDatabase(file)).toThrow(/already exists/);
    const after = track(new Database(file));
    expect(after.pragma('user_version', { simple: true })).toBe(0);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()).toEqual([{ name: 'audit_log' }]);
  });

  it('refuses a database newer than the code and leaves it untouched', () => {
    const future = migrations.length + 1;
    const raw = new Database(file);
    raw.exec("CREATE TABLE from_the_future (x TEXT); INSERT INTO from_the_future VALUES ('keep me')");
    raw.pragma(`user_version = ${future}`);
    raw.close();
    const before = sha256(file);

    let thrown: unknown;
    try {
      track(openDatabase(file));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DatabaseTooNewError);
    expect(thrown).toMatchObject({ found: future, known: migrations.length });

    // Not a byte changed: not the schema, not the version, not even the journal mode in the header.
    expect(sha256(file)).toBe(before);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const check = track(new Database(file, { readonly: true }));
    expect(check.pragma('user_version', { simple: true })).toBe(future);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(check.prepare('SELECT x FROM from_the_future').all()).toEqual([{ x: 'keep me' }]);
  });

  it('a second process migrating the same file at the same time does not make this one fail', async () => {
    // The other process (the CLI, a second broker) holds the write lock while it migrates; this one reads
    // user_version before that commits, then waits on busy_timeout for the lock.
    const require = createRequire(import.meta.url);
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require(workerData.sqlite);
      const db = new Database(workerData.file);
      db.pragma('journal_mode = WAL');
      db.exec('BEGIN IMMEDIATE');
      parentPort.postMessage('locked');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      for (const sql of workerData.migrations) db.exec(sql);
      db.pragma('user_version = ' + workerData.migrations.length);
      db.exec('COMMIT');
      db.close();
    `, { eval: true, workerData: { file, sqlite: require.resolve('better-sqlite3'), migrations: [...migrations] } });
    const exited = once(worker, 'exit');
    await once(worker, 'message');
    const db = track(openDatabase(file));
    await exited;
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'users'").get()).toEqual({ n: 1 });
  });

  it('creates the database file owner-only (0600), and its WAL too', () => {
    const db = track(openDatabase(file));
    db.prepare("INSERT INTO users (id, name, email, created_at) VALUES ('usr_1', 'Ada', 'ada@example.test', 1)").run();
    expect(mode(file)).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
  });

  it('tightens an existing database file that others could read', () => {
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    track(openDatabase(file));
    expect(mode(file)).toBe(0o600);
  });

  it('a broker makes its data dir owner-only (0700), new or existing', async () => {
    const fresh = join(dir, 'fresh', 'data');
    const loose = join(dir, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    for (const dataDir of [fresh, loose]) {
      const broker = await Broker.open({ dataDir, passphrase: TEST_PASSPHRASE, scrypt: TEST_SCRYPT, log: silentLogger });
      await broker.close();
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(join(dataDir, 'latchkey.db'))).toBe(0o600);
    }
  });
});
