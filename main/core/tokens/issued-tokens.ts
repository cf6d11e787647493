import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import type { Applications } from '../directory/applications.js';
import type { Users } from '../directory/users.js';
import type { Db } from '../store/database.js';

/** The record of an access token Latchkey issued (epoch seconds). */
export interface IssuedToken {
  jti: string;
  clientId: string;
  subject: string;
  userId: string | null;
  audience: string;
  scope: string;
  grantType: string;
  issuedAt: number;
  expiresAt: number;
  /** The token family of a user's authorization: revoking the family revokes this token. */
  familyId: string | null;
  /** The token this one was exchanged from (RFC 8693): revoking that one revokes this one. */
  parentJti: string | null;
  revokedAt: number | null;
}

/** Why a verified token is not live; the callers word their own refusals from it. */
export type NotLive = 'unrecorded' | 'revoked' | 'client_disabled' | 'user_disabled';

export type TokenState = { live: true; token: IssuedToken } | { live: false; why: NotLive };

interface Row {
  jti: string;
  client_id: string;
  subject: string;
  user_id: string | null;
  audience: string;
  scope: string;
  grant_type: string;
  issued_at: number;
  expires_at: number;
  family_id: string | null;
  parent_jti: string | null;
  revoked_at: number | null;
}

const fromRow = (row: Row): IssuedToken => ({
  jti: row.jti, clientId: row.client_id, subject: row.subject, userId: row.user_id, audience: row.audience, scope: row.scope,
  grantType: row.grant_type, issuedAt: row.issued_at, expiresAt: row.expires_at, familyId: row.family_id, parentJti: row.parent_jti, revokedAt: row.revoked_at,
});

/** How many expired records one sweep statement deletes: a year of tokens goes in short steps, never in one long write. */
const SWEEP_BATCH = 500;

/**
 * The one owner of `issued_tokens` (STYLE.md: a table has one owner): recording, "is this token live?",
 * revocation down delegation chains, and forgetting. Every reader asks here, so there is one answer.
 *
 * Delegation chains (issue 4 item 1): a token issued by token exchange names the token it was exchanged
 * from (`parent_jti`); the tokens derived from a token are its descendants along that column. Revocation
 * walks down it in SQL (a recursive CTE), in the same statement and transaction as the revocation that starts it.
 */
export class IssuedTokens {
  private readonly insert;
  private readonly byJti;
  private readonly revokeTree;
  private readonly revokeFamilyTree;
  private readonly rootOf;
  private readonly liveOfClient;
  private readonly sweepBatch;

  constructor(db: Db, private readonly clock: Clock, private readonly holders: { applications: Pick<Applications, 'get'>; users: Pick<Users, 'get'> }) {
    this.insert = db.prepare(
      `INSERT INTO issued_tokens (jti, client_id, subject, user_id, audience, scope, grant_type, issued_at, expires_at, family_id, parent_jti)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byJti = db.prepare('SELECT * FROM issued_tokens WHERE jti = ?');
    this.revokeTree = db.prepare(
      `WITH RECURSIVE derived (jti) AS (
         SELECT ? UNION SELECT t.jti FROM issued_tokens t JOIN derived d ON t.parent_jti = d.jti
       )
       UPDATE issued_tokens SET revoked_at = ? WHERE jti IN (SELECT jti FROM derived) AND revoked_at IS NULL`,
    );
    this.revokeFamilyTree = db.prepare(
      `WITH RECURSIVE derived (jti) AS (
         SELECT jti FROM issued_tokens WHERE family_id = ? UNION SELECT t.jti FROM issued_tokens t JOIN derived d ON t.parent_jti = d.jti
       )
       UPDATE issued_tokens SET revoked_at = ? WHERE jti IN (SELECT jti FROM derived) AND revoked_at IS NULL`,
    );
    // Up the chain to the token a client got without an exchange; its family names the user's consent.
    this.rootOf = db.prepare(
      `WITH RECURSIVE ancestors (jti, parent_jti, family_id, hops) AS (
         SELECT jti, parent_jti, family_id, 0 FROM issued_tokens WHERE jti = ?
         UNION ALL SELECT t.jti, t.parent_jti, t.family_id, a.hops + 1 FROM issued_tokens t JOIN ancestors a ON t.jti = a.parent_jti WHERE a.hops < 64
       )
       SELECT a.jti, a.family_id, t.client_id FROM ancestors a JOIN issued_tokens t ON t.jti = a.jti WHERE a.parent_jti IS NULL`,
    );
    this.liveOfClient = db.prepare('SELECT jti, audience FROM issued_tokens WHERE client_id = ? AND revoked_at IS NULL AND expires_at > ?');
    this.sweepBatch = db.prepare(`DELETE FROM issued_tokens WHERE rowid IN (SELECT rowid FROM issued_tokens WHERE expires_at < ? LIMIT ${SWEEP_BATCH})`);
  }

  /** Records a token as it is issued. Call within the issuing write. */
  record(token: Omit<IssuedToken, 'revokedAt'>): void {
    this.insert.run(token.jti, token.clientId, token.subject, token.userId, token.audience, token.scope, token.grantType, token.issuedAt, token.expiresAt, token.familyId, token.parentJti);
  }

  find(jti: string): IssuedToken | null {
    const row = this.byJti.get(jti) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  /**
   * Whether a token whose signature, issuer and expiry were verified is still good: recorded for the client
   * it names, not revoked, and its client and user still enabled. The one answer to "is this token live?".
   */
  state(jti: string, clientId: string): TokenState {
    const token = this.find(jti);
    if (!token || token.clientId !== clientId) return { live: false, why: 'unrecorded' };
    if (token.revokedAt !== null) return { live: false, why: 'revoked' };
    if (!this.holders.applications.get(token.clientId)?.enabled) return { live: false, why: 'client_disabled' };
    if (token.userId !== null && !this.holders.users.get(token.userId)?.enabled) return { live: false, why: 'user_disabled' };
    return { live: true, token };
  }

  /** Revokes a token and every token derived from it; how many were live. Call within a transaction. */
  revokeWithDerived(jti: string, nowSeconds: number): number {
    return this.revokeTree.run(jti, nowSeconds).changes;
  }

  /** Revokes a family's access tokens and every token derived from them. Call within a transaction. */
  revokeFamilyWithDerived(familyId: string, nowSeconds: number): number {
    return this.revokeFamilyTree.run(familyId, nowSeconds).changes;
  }

  /**
   * Revokes a client's live tokens (those for `audiences` only, when given), each with what was exchanged
   * from it; how many of the client's own were live. Call within a transaction.
   */
  revokeLiveOf(clientId: string, nowSeconds: number, audiences?: readonly string[]): number {
    const live = (this.liveOfClient.all(clientId, nowSeconds) as Array<{ jti: string; audience: string }>)
      .filter((token) => audiences === undefined || audiences.includes(token.audience));
    for (const { jti } of live) this.revokeWithDerived(jti, nowSeconds);
    return live.length;
  }

  /** How many live tokens a client holds. */
  countLive(clientId: string, nowSeconds: number): number {
    return this.liveOfClient.all(clientId, nowSeconds).length;
  }

  /**
   * The first token of the chain a token belongs to (itself when it was not exchanged), or null if unrecorded;
   * its client is where the chain began (the application the user, or an autonomous subject, first gave it to).
   */
  root(jti: string): { jti: string; familyId: string | null; clientId: string } | null {
    const row = this.rootOf.get(jti) as { jti: string; family_id: string | null; client_id: string } | undefined;
    return row ? { jti: row.jti, familyId: row.family_id, clientId: row.client_id } : null;
  }

  /**
   * Forgets, one short batch at a time, records a day past expiry: by then a record answers nothing that
   * verifying the token would not. True when more are left.
   */
  sweep(): boolean {
    return this.sweepBatch.run(epochSeconds(this.clock) - 86_400).changes === SWEEP_BATCH;
  }
}
