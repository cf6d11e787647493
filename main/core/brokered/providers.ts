import type { Clock } from '../clock.js';
import { newId } from '../store/credentials.js';
import { DirectoryError } from '../directory/errors.js';
import type { Db } from '../store/database.js';
import { VaultError } from '../vault/key-vault.js';
import type { Vault } from '../vault/vault.js';

/** The vault item holding a provider's client secret; the item id is bound into its seal (AAD). */
export const clientSecretItem = (providerId: string): string => `provider-client-secret:${providerId}`;

/** An upstream OAuth 2.0 / OIDC server Latchkey is a client of (issue 5 item 4). */
export interface Provider {
  id: string;
  name: string;
  /** Configured by issuer: the endpoints come from its discovery document. */
  issuer: string | null;
  /** Configured by explicit endpoints (an OAuth server without discovery). */
  endpoints: { authorizationEndpoint: string; tokenEndpoint: string; revocationEndpoint: string | null } | null;
  clientId: string;
  scopes: string[];
  createdAt: number;
}

/** What the admin registers a provider with: its issuer (discovery) or its endpoints, one of them. */
export interface NewProvider {
  name: string;
  issuer?: string | undefined;
  endpoints?: { authorizationEndpoint: string; tokenEndpoint: string; revocationEndpoint?: string | undefined } | undefined;
  clientId: string;
  /** Sealed in the vault, never shown again. */
  clientSecret?: string | undefined;
  scopes: readonly string[];
}

interface ProviderRow {
  id: string;
  name: string;
  issuer: string | null;
  authorization_endpoint: string | null;
  token_endpoint: string | null;
  revocation_endpoint: string | null;
  client_id: string;
  scopes: string;
  created_at: number;
}

const fromRow = (row: ProviderRow): Provider => ({
  id: row.id,
  name: row.name,
  issuer: row.issuer,
  endpoints: row.issuer === null
    ? { authorizationEndpoint: row.authorization_endpoint!, tokenEndpoint: row.token_endpoint!, revocationEndpoint: row.revocation_endpoint }
    : null,
  clientId: row.client_id,
  scopes: JSON.parse(row.scopes) as string[],
  createdAt: row.created_at,
});

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Upstream URLs must be https. Plain http is allowed only on a loopback host: the tests run a real provider
 * (oidc-provider) on 127.0.0.1, and a loopback server is reached without crossing a network, so nobody on
 * the path can read the client secret or the tokens.
 */
export function upstreamUrlProblem(value: string): string | null {
  const url = new URL(value);
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return 'must be https (plain http only on a loopback host)';
}

/** Whether talking to this provider needs openid-client's permission for plain http (loopback only, above). */
export const usesPlainHttp = (provider: Provider): boolean =>
  [provider.issuer, provider.endpoints?.authorizationEndpoint, provider.endpoints?.tokenEndpoint, provider.endpoints?.revocationEndpoint]
    .some((url) => url?.startsWith('http:'));

/**
 * The providers (issue 5 item 4): registration and lookup. The client secret is sealed in the vault in the
 * admin API's transaction with the row and its audit row, and never returned.
 */
export class Providers {
  private readonly byId;
  private readonly secretSet;

  constructor(private readonly db: Db, private readonly vault: Vault, private readonly clock: Clock) {
    this.byId = db.prepare('SELECT * FROM providers WHERE id = ?');
    this.secretSet = db.prepare('SELECT 1 FROM vault_items WHERE id = ?');
  }

  /** Registers a provider; call inside a transaction (the row and the sealed secret go together). */
  create(request: NewProvider): Provider {
    if ((request.issuer === undefined) === (request.endpoints === undefined)) throw new DirectoryError('issuer: give the issuer (discovery) or the endpoints, one of them');
    const urls: Array<[string, string | undefined]> = [['issuer', request.issuer], ['endpoints.authorization_endpoint', request.endpoints?.authorizationEndpoint],
      ['endpoints.token_endpoint', request.endpoints?.tokenEndpoint], ['endpoints.revocation_endpoint', request.endpoints?.revocationEndpoint]];
    for (const [field, url] of urls) {
      const problem = url === undefined ? null : upstreamUrlProblem(url);
      if (problem) throw new DirectoryError(`${field}: ${problem}`);
    }
    if (request.clientSecret !== undefined && this.vault.status.state !== 'unlocked') {
      throw new DirectoryError('the vault is locked: unlock it (latchkey vault unlock) before storing a client secret; nothing was saved', 409);
    }
    const id = newId('prv');
    this.db.prepare(
      `INSERT INTO providers (id, name, issuer, authorization_endpoint, token_endpoint, revocation_endpoint, client_id, scopes, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(id, request.name, request.issuer ?? null, request.endpoints?.authorizationEndpoint ?? null, request.endpoints?.tokenEndpoint ?? null,
      request.endpoints?.revocationEndpoint ?? null, request.clientId, JSON.stringify([...new Set(request.scopes)]), this.clock.now());
    if (request.clientSecret !== undefined) {
      try {
        this.vault.put(clientSecretItem(id), request.clientSecret);
      } catch (error) {
        if (error instanceof VaultError) throw new DirectoryError(`the client secret could not be sealed (${error.code}); nothing was saved`, 409);
        throw error;
      }
    }
    return this.get(id)!;
  }

  get(id: string): Provider | null {
    const row = this.byId.get(id) as ProviderRow | undefined;
    return row ? fromRow(row) : null;
  }

  list(): Provider[] {
    return (this.db.prepare('SELECT * FROM providers ORDER BY created_at, id').all() as ProviderRow[]).map(fromRow);
  }

  /** The client secret, for the upstream client only. Throws VaultError when the vault is locked. */
  clientSecret(id: string): string | null {
    return this.vault.get(clientSecretItem(id))?.toString('utf8') ?? null;
  }

  /** Removes the row and its client secret; call inside a transaction, after its accounts are gone. */
  delete(id: string): void {
    this.vault.delete(clientSecretItem(id));
    this.db.prepare('DELETE FROM providers WHERE id = ?').run(id);
  }

  /** Whether a client secret is sealed for it; needs no unlocked vault, and never reveals the secret. */
  hasClientSecret(id: string): boolean {
    return this.secretSet.get(clientSecretItem(id)) !== undefined;
  }
}
