// Group commit: many writes, one transaction and one WAL sync; each write succeeds or fails alone, and
// no caller hears "done" before its write is committed.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../main/core/store/group-commit.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';

describe('group commit', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let group: GroupCommit;
  let other: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-group-'));
    file = join(dir, 'latchkey.db');
    db = openDatabase(file);
    db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
             INSERT INTO parent (id) VALUES (1);`);
    group = new GroupCommit(db, `${file}-wal`);
    // A second connection sees only what was committed.
    other = new Database(file, { readonly: true });
  });
  afterEach(() => {
    other.close();
    group.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const committedChildren = (): number[] => (other.prepare('SELECT id FROM child ORDER BY id').all() as Array<{ id: number }>).map((row) => row.id);
  const insertChild = (id: number, parent = 1) => () => db.prepare('INSERT INTO child (id, parent) VALUES (?, ?)').run(id, parent).changes;

  it('commits writes queued in one turn together, and each caller hears only after the commit', async () => {
    const seenAtResolve: number[][] = [];
    const writes = [1, 2, 3].map((id) => group.run(insertChild(id)).then((changes) => { seenAtResolve.push(committedChildren()); return changes; }));
    expect(committedChildren()).toEqual([]);
    expect(await Promise.all(writes)).toEqual([1, 1, 1]);
    // Every caller, when told, could already read all three rows from another connection.
    expect(seenAtResolve).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  });

  it('a write that fails rolls back alone; the others in its group are committed', async () => {
    const results = await Promise.allSettled([
      group.run(insertChild(1)),
      group.run(() => { insertChild(2)(); throw new Error('this one changes its mind'); }),
      group.run(insertChild(3)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'this one changes its mind' });
    expect(committedChildren()).toEqual([1, 3]);
  });

  it('when the COMMIT itself fails, every write of the group is refused and none is kept', async () => {
    // A deferred foreign key is checked at COMMIT: the orphan makes the whole transaction fail there.
    const results = await Promise.allSettled([group.run(insertChild(1)), group.run(insertChild(2, 99))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(committedChildren()).toEqual([]);
    // The next group is unaffected.
    await group.run(insertChild(3));
    expect(committedChildren()).toEqual([3]);
  });

  it('keeps synchronous = FULL for every other write on the connection', async () => {
    await group.run(insertChild(1));
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('groups that commit while a WAL sync runs are covered by the next one, in order', async () => {
    const order: number[] = [];
    const first = group.run(insertChild(1)).then(() => order.push(1));
    await new Promise((resolve) => setImmediate(resolve));
    const second = group.run(insertChild(2)).then(() => order.push(2));
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
    expect(committedChildren()).toEqual([1, 2]);
  });
});
