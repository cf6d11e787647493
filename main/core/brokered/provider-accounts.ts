import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import type { Vault } from '../vault/vault.js';

/** The vault items of a user's upstream account: its refresh token and the cached access token. */
export const refreshTokenItem = (providerId: string, userId: string): string => `provider-refresh-token:${providerId}:${userId}`;
export const accessTokenItem = (providerId: string, userId: string): string => `provider-access-token:${providerId}:${userId}`;

export interface ProviderAccount {
  providerId: string;
  userId: string;
  status: 'connected' | 'needs_attention';
  /** Why it needs attention; never a token. */
  attention: string | null;
  /** When the cached upstream access token expires (epoch ms); null when the provider did not say. */
  expiresAt: number | null;
  connectedAt: number;
}

/** What an upstream token response leaves to keep. */
export interface UpstreamTokenSet {
  accessToken: string;
  /** Absent when the provider did not issue (or rotate) one. */
  refreshToken: string | undefined;
  expiresAt: number | null;
}

interface AccountRow {
  provider_id: string;
  user_id: string;
  status: 'connected' | 'needs_attention';
  attention: string | null;
  expires_at: number | null;
  connected_at: number;
}

/**
 * Users' connected upstream accounts (issue 5 item 4). The upstream tokens are vault items (AES-256-GCM under
 * the master key) and never leave Latchkey except the access token, handed to an authorized application;
 * the row keeps only what may be shown: the status and when the access token expires. Every write here is
 * meant for the caller's transaction, so a token and its row change together or not at all.
 */
export class ProviderAccounts {
  private readonly byKey;

  constructor(private readonly db: Db, private readonly vault: Vault, private readonly clock: Clock) {
    this.byKey = db.prepare('SELECT * FROM provider_accounts WHERE provider_id = ? AND user_id = ?');
  }

  get(providerId: string, userId: string): ProviderAccount | null {
    const row = this.byKey.get(providerId, userId) as AccountRow | undefined;
    return row ? { providerId: row.provider_id, userId: row.user_id, status: row.status, attention: row.attention, expiresAt: row.expires_at, connectedAt: row.connected_at } : null;
  }

  ofProvider(providerId: string): ProviderAccount[] {
    return (this.db.prepare('SELECT user_id FROM provider_accounts WHERE provider_id = ?').all(providerId) as Array<{ user_id: string }>)
      .map((row) => this.get(providerId, row.user_id)!);
  }

  /** A new connection: replaces whatever was there (a reconnect clears `needs_attention`). */
  connect(providerId: string, userId: string, tokens: UpstreamTokenSet): void {
    const now = this.clock.now();
    this.vault.put(accessTokenItem(providerId, userId), tokens.accessToken);
    // A connection without a refresh token must not keep the previous connection's.
    if (tokens.refreshToken !== undefined) this.vault.put(refreshTokenItem(providerId, userId), tokens.refreshToken);
    else this.vault.delete(refreshTokenItem(providerId, userId));
    this.db.prepare(
      `INSERT INTO provider_accounts (provider_id, user_id, status, attention, expires_at, connected_at, updated_at) VALUES (?, ?, 'connected', NULL, ?, ?, ?)
       ON CONFLICT (provider_id, user_id) DO UPDATE SET status = 'connected', attention = NULL, expires_at = excluded.expires_at,
         connected_at = excluded.connected_at, updated_at = excluded.updated_at`,
    ).run(providerId, userId, tokens.expiresAt, now, now);
  }

  /**
   * Stores a refresh's outcome: the new access token, and the rotated refresh token when the provider rotated
   * it. False (nothing stored) when the account was disconnected or marked meanwhile.
   */
  refreshed(providerId: string, userId: string, tokens: UpstreamTokenSet): boolean {
    const updated = this.db.prepare("UPDATE provider_accounts SET expires_at = ?, updated_at = ? WHERE provider_id = ? AND user_id = ? AND status = 'connected'")
      .run(tokens.expiresAt, this.clock.now(), providerId, userId).changes === 1;
    if (!updated) return false;
    this.vault.put(accessTokenItem(providerId, userId), tokens.accessToken);
    if (tokens.refreshToken !== undefined) this.vault.put(refreshTokenItem(providerId, userId), tokens.refreshToken);
    return true;
  }

  /** The upstream refused the refresh token (revoked): the user must connect again. The tokens are dropped. */
  markNeedsAttention(providerId: string, userId: string, why: string): void {
    this.db.prepare("UPDATE provider_accounts SET status = 'needs_attention', attention = ?, updated_at = ? WHERE provider_id = ? AND user_id = ?")
      .run(why, this.clock.now(), providerId, userId);
    this.vault.delete(accessTokenItem(providerId, userId));
    this.vault.delete(refreshTokenItem(providerId, userId));
  }

  /** The cached access token. Throws VaultError when the vault is locked. */
  accessToken(providerId: string, userId: string): string | null {
    return this.vault.get(accessTokenItem(providerId, userId))?.toString('utf8') ?? null;
  }

  /** The refresh token; it never leaves Latchkey but to the provider that issued it. Throws VaultError when locked. */
  refreshToken(providerId: string, userId: string): string | null {
    return this.vault.get(refreshTokenItem(providerId, userId))?.toString('utf8') ?? null;
  }

  /** Forgets the account: its row and its vault items. */
  remove(providerId: string, userId: string): void {
    this.vault.delete(accessTokenItem(providerId, userId));
    this.vault.delete(refreshTokenItem(providerId, userId));
    this.db.prepare('DELETE FROM provider_accounts WHERE provider_id = ? AND user_id = ?').run(providerId, userId);
  }
}
