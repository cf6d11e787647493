import type { Clock } from '../clock.js';
import { hashSecret, randomSecret } from '../store/credentials.js';
import type { Db } from '../store/database.js';

/** OAuth 2.1 §4.1.2: a code lives briefly; ours at most 60 seconds. */
export const CODE_LIFETIME_MS = 60_000;

/** Everything a code is bound to (issue 3 item 3). */
export interface CodeBinding {
  clientId: string;
  userId: string;
  consentId: string;
  redirectUri: string;
  /** Whether the authorization request named the redirect URI (then the token request must, RFC 6749 §4.1.3). */
  redirectUriGiven: boolean;
  codeChallenge: string;
  scopes: string[];
  resources: string[];
  nonce: string | null;
  /** When the user signed in (epoch ms). */
  authTime: number;
}

export interface StoredCode extends CodeBinding {
  codeHash: Buffer;
  expiresAt: number;
  redeemedAt: number | null;
  /** The token family the code started, once redeemed: revoked if the code comes back. */
  familyId: string | null;
}

interface CodeRow {
  code_hash: Buffer;
  client_id: string;
  user_id: string;
  consent_id: string;
  redirect_uri: string;
  redirect_uri_given: number;
  code_challenge: string;
  scopes: string;
  resources: string;
  nonce: string | null;
  auth_time: number;
  expires_at: number;
  redeemed_at: number | null;
  family_id: string | null;
}

/** Authorization codes: 256-bit random values, single use, stored only as SHA-256 hashes. */
export class AuthorizationCodes {
  private readonly byHash;
  private readonly redeem;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.byHash = db.prepare('SELECT * FROM authorization_codes WHERE code_hash = ?');
    // Conditional: of two requests redeeming the same code, exactly one does.
    this.redeem = db.prepare('UPDATE authorization_codes SET redeemed_at = ?, family_id = ? WHERE code_hash = ? AND redeemed_at IS NULL');
  }

  /** Stores a new code; call within the transaction that audits it. Returns the code, which is never stored. */
  issue(binding: CodeBinding): string {
    const code = randomSecret();
    const now = this.clock.now();
    this.db.prepare(
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, consent_id, redirect_uri, redirect_uri_given, code_challenge,
         scopes, resources, nonce, auth_time, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(hashSecret(code), binding.clientId, binding.userId, binding.consentId, binding.redirectUri, binding.redirectUriGiven ? 1 : 0,
      binding.codeChallenge, JSON.stringify(binding.scopes), JSON.stringify(binding.resources), binding.nonce, binding.authTime, now, now + CODE_LIFETIME_MS);
    return code;
  }

  find(code: string): StoredCode | null {
    if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return null;
    const row = this.byHash.get(hashSecret(code)) as CodeRow | undefined;
    if (!row) return null;
    return {
      codeHash: row.code_hash,
      clientId: row.client_id,
      userId: row.user_id,
      consentId: row.consent_id,
      redirectUri: row.redirect_uri,
      redirectUriGiven: row.redirect_uri_given === 1,
      codeChallenge: row.code_challenge,
      scopes: JSON.parse(row.scopes) as string[],
      resources: JSON.parse(row.resources) as string[],
      nonce: row.nonce,
      authTime: row.auth_time,
      expiresAt: row.expires_at,
      redeemedAt: row.redeemed_at,
      familyId: row.family_id,
    };
  }

  /** Spends a code for a family; false when another request spent it first. Call within a transaction. */
  spend(codeHash: Buffer, familyId: string): boolean {
    return this.redeem.run(this.clock.now(), familyId, codeHash).changes === 1;
  }

  /** The family a spent code started (read again after a lost race). */
  familyOf(codeHash: Buffer): string | null {
    return (this.byHash.get(codeHash) as CodeRow | undefined)?.family_id ?? null;
  }

  /** Redeemed codes are kept a day past expiry so a replay is recognized and revokes what the code issued. */
  sweep(): void {
    this.db.prepare('DELETE FROM authorization_codes WHERE expires_at < ?').run(this.clock.now() - 86_400_000);
  }
}
