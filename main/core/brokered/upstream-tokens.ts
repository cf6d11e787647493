import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { InteractionRequired, TemporarilyUnavailable } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import type { ProviderAccounts } from './provider-accounts.js';
import type { Provider } from './providers.js';
import { UpstreamRefused, type UpstreamClients } from './upstream-client.js';

/** A cached upstream access token is refreshed when it has less than this left. */
export const REFRESH_MARGIN_MS = 60_000;

export interface UpstreamAccessToken {
  token: string;
  /** Epoch ms; null when the provider did not say. */
  expiresAt: number | null;
}

/**
 * Where the user reconnects: the CLI and the UI. The description of `interaction_required` says it, since
 * the agent that hears it must tell its user what to do (issue 5 item 4).
 */
export function reconnectHint(provider: Provider, issuer: string): string {
  return `reconnect it with \`latchkey provider connect ${provider.id}\` or in Latchkey at ${issuer}/ui/`;
}

/**
 * A user's upstream access token for a provider: the cached one while it has more than a minute left, else a
 * refresh with the upstream refresh token (which never leaves Latchkey but to its provider). One refresh in
 * flight per account: concurrent requests share it, so a provider that rotates refresh tokens never sees the
 * same one twice. A rotated refresh token is stored with the new access token in one transaction.
 *
 * Failures: not connected, or the refresh token refused (invalid_grant: revoked upstream) is
 * `interaction_required` (the account is marked `needs_attention`); anything else upstream (down, 5xx,
 * network, timeout) is `temporarily_unavailable` (503) and stores nothing.
 */
export class UpstreamTokens {
  private readonly inFlight = new Map<string, Promise<UpstreamAccessToken>>();

  constructor(
    private readonly accounts: ProviderAccounts,
    private readonly clients: UpstreamClients,
    private readonly audit: AuditLog,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  async accessToken(provider: Provider, userId: string): Promise<UpstreamAccessToken> {
    const account = this.accounts.get(provider.id, userId);
    if (!account) throw this.reconnect(provider, 'is not connected', 'upstream account not connected');
    if (account.status === 'needs_attention') throw this.reconnect(provider, `needs attention (${account.attention ?? 'reconnect it'})`, 'upstream account needs attention');
    if (account.expiresAt === null || account.expiresAt - this.clock.now() > REFRESH_MARGIN_MS) {
      const token = this.read(() => this.accounts.accessToken(provider.id, userId));
      if (token !== null) return { token, expiresAt: account.expiresAt };
    }
    const key = `${provider.id}\u0000${userId}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const refresh = this.refresh(provider, userId).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, refresh);
    return refresh;
  }

  private async refresh(provider: Provider, userId: string): Promise<UpstreamAccessToken> {
    const refreshToken = this.read(() => this.accounts.refreshToken(provider.id, userId));
    if (refreshToken === null) {
      this.needsAttention(provider, userId, 'the upstream access token expired and the provider gave no refresh token');
      throw this.reconnect(provider, 'needs attention (its access expired and cannot be renewed)', 'no upstream refresh token');
    }
    let tokens;
    try {
      tokens = await this.clients.refresh(provider, refreshToken);
    } catch (error) {
      if (error instanceof UpstreamRefused && error.kind === 'invalid_grant') {
        this.needsAttention(provider, userId, 'the upstream refresh token was revoked or has expired');
        throw this.reconnect(provider, 'needs attention (the provider no longer accepts its refresh token)', 'upstream refresh refused: invalid_grant');
      }
      // Nothing stored: the cached token and the refresh token stay as they were, for the next attempt.
      throw new TemporarilyUnavailable(`${provider.name} is not answering right now; try again later`, { reason: `upstream refresh failed: ${(error as Error).message}`, auditDetail: { provider_id: provider.id } });
    }
    const stored = this.transaction(() => {
      if (!this.accounts.refreshed(provider.id, userId, tokens)) return false;
      this.audit.append({ event: 'provider.refreshed', decision: 'info', subject: userId, reason: 'upstream access token renewed',
        detail: { provider_id: provider.id, rotated_refresh_token: tokens.refreshToken !== undefined, expires_at: tokens.expiresAt } });
      return true;
    });
    // Disconnected (or marked) while the refresh was out: what came back is not kept, nor handed out.
    if (!stored) throw this.reconnect(provider, 'is not connected', 'upstream account disconnected during refresh');
    return { token: tokens.accessToken, expiresAt: tokens.expiresAt };
  }

  private needsAttention(provider: Provider, userId: string, why: string): void {
    this.transaction(() => {
      this.accounts.markNeedsAttention(provider.id, userId, why);
      this.audit.append({ event: 'provider.needs_attention', decision: 'deny', subject: userId, reason: why, detail: { provider_id: provider.id } });
    });
  }

  private reconnect(provider: Provider, state: string, reason: string): InteractionRequired {
    return new InteractionRequired(`the user's ${provider.name} account ${state}: ${reconnectHint(provider, this.issuer())}`, { reason, auditDetail: { provider_id: provider.id } });
  }

  private read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof VaultError) throw new TemporarilyUnavailable('the broker cannot hand out this credential right now (vault locked or unreadable)', { reason: `upstream token not read: ${error.code}` });
      throw error;
    }
  }
}
