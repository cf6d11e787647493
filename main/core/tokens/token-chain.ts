import type { Db } from '../store/database.js';

/**
 * Delegation chains in the token records (issue 4 item 1). A token issued by token exchange names the
 * token it was exchanged from (`issued_tokens.parent_jti`); the tokens derived from a token are its
 * descendants along that column. Revocation walks down it in SQL (a recursive CTE), so it happens in the
 * same statement, and the same transaction, as the revocation that starts it.
 */
export class TokenChains {
  private readonly revokeTree;
  private readonly revokeFamilyTree;
  private readonly rootOf;

  constructor(db: Db) {
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
   * The first token of the chain a token belongs to (itself when it was not exchanged), or null if unrecorded;
   * its client is where the chain began (the application the user, or an autonomous subject, first gave it to).
   */
  root(jti: string): { jti: string; familyId: string | null; clientId: string } | null {
    const row = this.rootOf.get(jti) as { jti: string; family_id: string | null; client_id: string } | undefined;
    return row ? { jti: row.jti, familyId: row.family_id, clientId: row.client_id } : null;
  }
}
