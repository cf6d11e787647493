import type { AuditLog } from '../audit/audit-log.js';
import type { TokenFamilies } from './token-families.js';

/**
 * Ending a user's authorization because one of its credentials was presented again (a spent code, a rotated
 * refresh token: OAuth 2.1 §4.1.3, §4.3.1): the family and every token derived from it are revoked, and a
 * `token.family_revoked` row says why, in one transaction.
 */
export class FamilyRevocation {
  constructor(private readonly families: TokenFamilies, private readonly audit: AuditLog, private readonly transaction: <T>(work: () => T) => T) {}

  /** Never throws: the request that showed the replay is refused either way, and the next replay tries again. */
  onReplay(family: { id: string; clientId: string; userId: string }, grantType: string, why: string): void {
    try {
      this.transaction(() => {
        const result = this.families.revoke(family.id, why);
        this.audit.append({ event: 'token.family_revoked', decision: 'deny', clientId: family.clientId, subject: family.userId, grantType,
          reason: why, detail: { family_id: family.id, access_tokens: result.accessTokens } });
      });
    } catch {
      // Refused either way; retried by the next replay.
    }
  }
}
