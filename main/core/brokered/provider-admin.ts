import type { AuditLog } from '../audit/audit-log.js';
import { DirectoryError } from '../directory/errors.js';
import type { Resources } from '../directory/resources.js';
import type { User, Users } from '../directory/users.js';
import type { Logger } from '../logger.js';
import { VaultError } from '../vault/key-vault.js';
import type { ProviderAccount, ProviderAccounts } from './provider-accounts.js';
import type { ProviderConnections } from './provider-connections.js';
import type { NewProvider, Provider, Providers } from './providers.js';
import { describe, type UpstreamClients } from './upstream-client.js';

/** What disconnecting did upstream (RFC 7009), for the audit row. */
type Revocation = 'revoked' | 'not_offered' | 'failed' | 'no_refresh_token' | 'not_connected';

/** A provider as the owner sees it: with the owner's account there (null: not connected), and whether a client secret is sealed. */
export interface ProviderStatus {
  provider: Provider;
  account: ProviderAccount | null;
  hasClientSecret: boolean;
}

/**
 * The providers admin API (`/api/providers`, the CLI's `latchkey provider …`, the UI): the owner's upstream
 * accounts. Every change is audited in the transaction that makes it; no response names a secret or token.
 */
export class ProviderAdmin {
  constructor(
    private readonly providers: Providers,
    private readonly accounts: ProviderAccounts,
    private readonly connections: ProviderConnections,
    private readonly clients: UpstreamClients,
    private readonly resources: Resources,
    private readonly users: Users,
    private readonly audit: AuditLog,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly log: Logger,
  ) {}

  list(): ProviderStatus[] {
    const owner = this.users.owner();
    return this.providers.list().map((provider) => this.view(provider, owner));
  }

  create(request: NewProvider): ProviderStatus {
    const provider = this.transaction(() => {
      const created = this.providers.create(request);
      this.audit.append({ event: 'admin.provider_created', decision: 'info', reason: 'admin change',
        detail: { provider_id: created.id, name: created.name, issuer: created.issuer, client_id: created.clientId, scopes: created.scopes, has_client_secret: request.clientSecret !== undefined } });
      return created;
    });
    return this.view(provider, this.users.owner());
  }

  /** Starts connecting the owner's account; the authorization URL it answers is for the owner's browser. */
  async connect(id: string): Promise<string> {
    const provider = this.require(id);
    const owner = this.owner();
    return this.connections.start(provider, { userId: owner.id, via: 'admin' });
  }

  /** Revokes the upstream refresh token where the provider offers it, then forgets the account. */
  async disconnect(id: string): Promise<ProviderStatus> {
    const provider = this.require(id);
    const owner = this.owner();
    const revocation = await this.revokeUpstream(provider, owner.id);
    this.transaction(() => {
      this.accounts.remove(provider.id, owner.id);
      this.audit.append({ event: 'provider.disconnected', decision: 'info', subject: owner.id, reason: 'admin change', detail: { provider_id: provider.id, upstream_revocation: revocation } });
    });
    return this.view(provider, owner);
  }

  /** Refused while a resource names it (409); disconnects its accounts first. The provider that was deleted. */
  async delete(id: string): Promise<Provider> {
    const provider = this.require(id);
    const users = this.resources.ofProvider(provider.id);
    if (users.length) throw new DirectoryError(`the provider is in use by ${users.length} resource(s): ${users.map((resource) => resource.identifier).join(', ')}`, 409);
    const revocations: Record<string, Revocation> = {};
    for (const account of this.accounts.ofProvider(provider.id)) revocations[account.userId] = await this.revokeUpstream(provider, account.userId);
    this.transaction(() => {
      for (const account of this.accounts.ofProvider(provider.id)) this.accounts.remove(provider.id, account.userId);
      this.connections.forgetProvider(provider.id);
      this.providers.delete(provider.id);
      this.audit.append({ event: 'admin.provider_deleted', decision: 'info', reason: 'admin change', detail: { provider_id: provider.id, name: provider.name, upstream_revocation: revocations } });
    });
    this.clients.forget(provider.id);
    return provider;
  }

  private async revokeUpstream(provider: Provider, userId: string): Promise<Revocation> {
    if (!this.accounts.get(provider.id, userId)) return 'not_connected';
    let refreshToken: string | null;
    try {
      refreshToken = this.accounts.refreshToken(provider.id, userId);
    } catch (error) {
      if (error instanceof VaultError) throw new DirectoryError('the vault is locked: unlock it first, so that the upstream token can be revoked', 409);
      throw error;
    }
    if (refreshToken === null) return 'no_refresh_token';
    try {
      return (await this.clients.revoke(provider, refreshToken)) ? 'revoked' : 'not_offered';
    } catch (error) {
      // The account is forgotten all the same: the user asked for it, and the audit row says revocation failed.
      this.log.warn(`revoking the upstream token at ${provider.name} failed: ${describe(error)}`);
      return 'failed';
    }
  }

  private view(provider: Provider, owner: User | null): ProviderStatus {
    return { provider, account: owner ? this.accounts.get(provider.id, owner.id) : null, hasClientSecret: this.providers.hasClientSecret(provider.id) };
  }

  private require(id: string): Provider {
    const provider = this.providers.get(id);
    if (!provider) throw new DirectoryError('unknown provider', 404);
    return provider;
  }

  private owner(): User {
    const owner = this.users.owner();
    if (!owner) throw new DirectoryError('there is no owner yet: run `latchkey setup` first', 409);
    return owner;
  }
}
