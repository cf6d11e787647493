import type { Db } from '../store/database.js';

/**
 * Remembers the `jti` of every client assertion and JWT bearer grant until it expires, in SQLite so a
 * restart does not reopen the window (RFC 7523 §3 item 7).
 */
export class ReplayGuard {
  private readonly insert;
  private readonly purge;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT OR IGNORE INTO used_assertions (issuer, jti, expires_at) VALUES (?, ?, ?)');
    this.purge = db.prepare('DELETE FROM used_assertions WHERE expires_at < ?');
  }

  /** True the first time (issuer, jti) is seen; false for a replay. */
  consume(issuer: string, jti: string, expiresAtSeconds: number): boolean {
    return this.insert.run(issuer, jti, expiresAtSeconds).changes === 1;
  }

  /** Forgets what has expired (with a margin for clock skew). */
  sweep(nowSeconds: number): void {
    this.purge.run(nowSeconds - 300);
  }
}
