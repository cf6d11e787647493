import type { Clock } from '../clock.js';
import { hashSecret, randomSecret } from '../store/credentials.js';
import type { Db } from '../store/database.js';

/** How long a login link may wait to be opened. */
export const LOGIN_LINK_LIFETIME_MS = 5 * 60_000;
/** How long a UI session lasts; `auth_time` in ID tokens is when it started. */
export const SESSION_LIFETIME_MS = 12 * 3600_000;
/**
 * The session cookie of the consent flow. HttpOnly (no script reads it), SameSite=Lax (a cross-site POST
 * does not carry it), Path=/ and no Domain (it goes back only to the host that set it). Not Secure: the
 * broker speaks plain HTTP on loopback.
 *
 * Lax, not Strict: an agent opens `/oauth2/authorize` with a top-level navigation from elsewhere (its own
 * page, a terminal's link), and the consent page must know the user then. The admin API needs no such
 * entry from outside, so the same session reaches it only through its own SameSite=Strict cookie
 * (ADMIN_SESSION_COOKIE): a navigation from another site never carries that one.
 */
export const SESSION_COOKIE = 'latchkey_session';
/** The same session, for the admin API and the UI only: SameSite=Strict (see SESSION_COOKIE). */
export const ADMIN_SESSION_COOKIE = 'latchkey_admin';

export interface UiSession {
  /** The hash of the session id: what authorization transactions are bound to. */
  idHash: Buffer;
  userId: string;
  /** When the user signed in (epoch ms). */
  startedAt: number;
}

/** `next` may only lead back to the authorization endpoint of this broker: no open redirect. */
export function isSafeNext(next: string): boolean {
  return /^\/oauth2\/authorize(\?[A-Za-z0-9\-._~%!$&*+,=:@/?]*)?$/.test(next) && !next.includes('\\');
}

/** A session as the admin API sees it: a first-run session (userId null) may make the owner. */
export interface AdminUiSession extends Omit<UiSession, 'userId'> {
  userId: string | null;
}

export type LoginOutcome = { ok: true; sessionId: string; session: AdminUiSession } | { ok: false; reason: string };

/**
 * UI sessions (issue 3 item 1): a browser is the user when it holds a session cookie, which it gets by
 * opening a one-time login link. Link and session id are 256-bit random values stored only hashed.
 */
export class UiSessions {
  private readonly findSession;
  private readonly spendLink;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.findSession = db.prepare('SELECT user_id, created_at FROM ui_sessions WHERE id_hash = ? AND ended_at IS NULL AND expires_at > ?');
    // Conditional: of two browsers opening the same link at once, one gets the session.
    this.spendLink = db.prepare('UPDATE login_links SET used_at = ? WHERE link_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id');
  }

  /**
   * A new one-time login link secret for a user, or (userId null) a first-run link, for a fresh install
   * that has no owner yet. The caller records it in the audit log's transaction.
   */
  createLoginLink(userId: string | null): { secret: string; expiresAt: number } {
    const secret = randomSecret();
    const now = this.clock.now();
    const expiresAt = now + LOGIN_LINK_LIFETIME_MS;
    this.db.prepare('INSERT INTO login_links (link_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(hashSecret(secret), userId, now, expiresAt);
    return { secret, expiresAt };
  }

  /** Spends a login link and starts a session. Call within a transaction. */
  redeemLoginLink(secret: string): LoginOutcome {
    const now = this.clock.now();
    const row = this.spendLink.get(now, hashSecret(secret), now) as { user_id: string | null } | undefined;
    if (!row) return { ok: false, reason: 'unknown, used or expired login link' };
    if (row.user_id === null) {
      // A first-run link is for making the owner: once there is one, it opens nothing.
      if (this.db.prepare('SELECT 1 FROM users WHERE is_owner = 1').get()) return { ok: false, reason: 'a first-run link after the owner was set up' };
    } else {
      const enabled = this.db.prepare('SELECT enabled FROM users WHERE id = ?').get(row.user_id) as { enabled: number } | undefined;
      if (enabled?.enabled !== 1) return { ok: false, reason: 'the user is disabled' };
    }
    const sessionId = randomSecret();
    const idHash = hashSecret(sessionId);
    this.db.prepare('INSERT INTO ui_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(idHash, row.user_id, now, now + SESSION_LIFETIME_MS);
    return { ok: true, sessionId, session: { idHash, userId: row.user_id, startedAt: now } };
  }

  /** The live session of a user the consent flow's cookie names, if any (a first-run session is no user). */
  fromCookieHeader(header: string | undefined): UiSession | null {
    const found = this.withSessionId(header, SESSION_COOKIE);
    return found && found.session.userId !== null ? { ...found.session, userId: found.session.userId } : null;
  }

  /** The live session a cookie names, with the session id the cookie holds (what an admin session's CSRF token derives from). */
  withSessionId(header: string | undefined, name: string): { session: AdminUiSession; sessionId: string } | null {
    for (const value of cookieValues(header, name)) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(value)) continue;
      const idHash = hashSecret(value);
      const row = this.findSession.get(idHash, this.clock.now()) as { user_id: string | null; created_at: number } | undefined;
      if (row) return { session: { idHash, userId: row.user_id, startedAt: row.created_at }, sessionId: value };
    }
    return null;
  }

  /** First-run setup made the owner: the session that made it is now the owner's. Call within that transaction. */
  bindToOwner(idHash: Buffer, userId: string): void {
    this.db.prepare('UPDATE ui_sessions SET user_id = ? WHERE id_hash = ? AND user_id IS NULL').run(userId, idHash);
  }

  /** Ends a session (sign-out): neither of its cookies opens anything afterwards. */
  end(idHash: Buffer): boolean {
    return this.db.prepare('UPDATE ui_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL').run(this.clock.now(), idHash).changes === 1;
  }

  /** The Set-Cookie values for a new session: the consent flow's (Lax) and the admin API's (Strict). */
  static cookies(sessionId: string): string[] {
    const maxAge = SESSION_LIFETIME_MS / 1000;
    return [
      `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`,
      `${ADMIN_SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`,
    ];
  }

  /** The Set-Cookie values that make a browser forget both cookies (sign-out). */
  static clearedCookies(): string[] {
    return [SESSION_COOKIE, ADMIN_SESSION_COOKIE].map((name) => `${name}=; Path=/; HttpOnly; SameSite=${name === SESSION_COOKIE ? 'Lax' : 'Strict'}; Max-Age=0`);
  }

  /** Forgets links and sessions that can no longer be used. */
  sweep(): void {
    const now = this.clock.now();
    this.db.prepare('DELETE FROM login_links WHERE expires_at < ?').run(now);
    this.db.prepare('DELETE FROM ui_sessions WHERE expires_at < ?').run(now);
  }
}

function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
