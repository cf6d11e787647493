import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import { hashSecret, newId, randomSecret } from '../store/credentials.js';
import type { Db } from '../store/database.js';
import type { IssuedTokens } from './issued-tokens.js';

/** How long an unused refresh token stays valid; every use rotates it and starts a new period. */
export const REFRESH_TOKEN_LIFETIME_MS = 30 * 86_400_000;

/**
 * A rotated refresh token presented this soon after its rotation comes from a refresh that overlapped the
 * winning one (a client refreshing from two places at once): it is refused, but it is not taken for a
 * replay. Later, it is (OAuth 2.1 §4.3.1).
 */
export const ROTATION_RACE_WINDOW_MS = 2_000;

export interface TokenFamily {
  id: string;
  clientId: string;
  userId: string;
  consentId: string;
  /** What the user granted: the refresh token's scope and the resources it may switch among (RFC 8707 §2.2). */
  scopes: string[];
  resources: string[];
  /** When the user signed in (epoch ms), for the ID token's auth_time. */
  authTime: number;
  revokedAt: number | null;
}

interface FamilyRow {
  id: string;
  client_id: string;
  user_id: string;
  consent_id: string;
  scopes: string;
  resources: string;
  auth_time: number;
  revoked_at: number | null;
}

const fromRow = (row: FamilyRow): TokenFamily => ({
  id: row.id,
  clientId: row.client_id,
  userId: row.user_id,
  consentId: row.consent_id,
  scopes: JSON.parse(row.scopes) as string[],
  resources: JSON.parse(row.resources) as string[],
  authTime: row.auth_time,
  revokedAt: row.revoked_at,
});

export type PresentedRefreshToken =
  | { state: 'unknown' }
  | { state: 'expired' | 'live'; tokenHash: Buffer; family: TokenFamily }
  | { state: 'rotated'; tokenHash: Buffer; family: TokenFamily; rotatedAt: number };

/**
 * Token families (OAuth 2.1 §4.3.1, the Security BCP §4.14): a redeemed code starts one; each refresh
 * rotates its refresh token; a rotated token presented again, a reused code, a withdrawn consent end the
 * whole family, its access tokens included. Refresh tokens are 256-bit random values stored only hashed.
 */
export class TokenFamilies {
  private readonly byId;
  private readonly tokenByHash;
  private readonly rotate;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly issuedTokens: IssuedTokens) {
    this.byId = db.prepare('SELECT * FROM token_families WHERE id = ?');
    this.tokenByHash = db.prepare('SELECT family_id, expires_at, rotated_at FROM refresh_tokens WHERE token_hash = ?');
    // Conditional: of two requests presenting the same token, exactly one rotates it.
    this.rotate = db.prepare('UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL');
  }

  /** A new family id: chosen before minting, since the access token's record names it. */
  newId(): string {
    return newId('fam');
  }

  /** Starts a family. Call within the issuing transaction. */
  create(id: string, spec: { clientId: string; userId: string; consentId: string; scopes: readonly string[]; resources: readonly string[]; authTime: number }): void {
    this.db.prepare('INSERT INTO token_families (id, client_id, user_id, consent_id, scopes, resources, auth_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, spec.clientId, spec.userId, spec.consentId, JSON.stringify(spec.scopes), JSON.stringify(spec.resources), spec.authTime, this.clock.now());
  }

  get(id: string): TokenFamily | null {
    const row = this.byId.get(id) as FamilyRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** A new refresh token value; `record` stores its hash (call that within the issuing transaction). */
  newRefreshToken(familyId: string): { token: string; record: () => void } {
    const token = randomSecret();
    return {
      token,
      record: () => {
        const now = this.clock.now();
        this.db.prepare('INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
          .run(hashSecret(token), familyId, now, now + REFRESH_TOKEN_LIFETIME_MS);
      },
    };
  }

  /** What a presented refresh token is. Looked up by its hash: the stored value is never the token. */
  find(token: string): PresentedRefreshToken {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { state: 'unknown' };
    const tokenHash = hashSecret(token);
    const row = this.tokenByHash.get(tokenHash) as { family_id: string; expires_at: number; rotated_at: number | null } | undefined;
    const family = row ? this.get(row.family_id) : null;
    if (!row || !family) return { state: 'unknown' };
    if (row.rotated_at !== null) return { state: 'rotated', tokenHash, family, rotatedAt: row.rotated_at };
    if (row.expires_at <= this.clock.now()) return { state: 'expired', tokenHash, family };
    return { state: 'live', tokenHash, family };
  }

  /** Marks a refresh token used; false when another request used it first. Call within a transaction. */
  spend(tokenHash: Buffer): boolean {
    return this.rotate.run(this.clock.now(), tokenHash).changes === 1;
  }

  /**
   * Ends a family: its refresh tokens stop working, and its access tokens are revoked together with every
   * token derived from them by token exchange (issue 4 item 1). Call within a transaction.
   */
  revoke(familyId: string, why: string): { revoked: boolean; accessTokens: number } {
    const now = this.clock.now();
    const revoked = this.db.prepare('UPDATE token_families SET revoked_at = ?, revoked_why = ? WHERE id = ? AND revoked_at IS NULL').run(now, why, familyId).changes === 1;
    const accessTokens = this.issuedTokens.revokeFamilyWithDerived(familyId, epochSeconds(this.clock));
    return { revoked, accessTokens };
  }

  /** The live families a consent backs. */
  liveFamiliesOf(consentId: string): string[] {
    return (this.db.prepare('SELECT id FROM token_families WHERE consent_id = ? AND revoked_at IS NULL').all(consentId) as Array<{ id: string }>).map((row) => row.id);
  }

  /** Forgets refresh tokens a day past expiry (rotated ones too: after that, a replay is just unknown). */
  sweep(): void {
    this.db.prepare('DELETE FROM refresh_tokens WHERE expires_at < ?').run(this.clock.now() - 86_400_000);
  }
}
