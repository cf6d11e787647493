import type { CredentialType } from '../../../shared/domain.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { DirectoryError } from './errors.js';
import type { ResourceSecrets } from './resource-secrets.js';

export interface Resource {
  identifier: string;
  name: string;
  scopes: string[];
  credentialType: CredentialType;
  tokenLifetime: number;
  servedBy: string | null;
  createdAt: number;
  /** Brokered resources (issue 5 item 4): the upstream provider and the upstream scopes the resource needs. */
  providerId: string | null;
  upstreamScopes: string[];
}

/** What the admin registers a resource with; the admin layer fills in the defaults. */
export interface NewResource {
  identifier: string;
  name: string;
  scopes: readonly string[];
  credentialType: CredentialType;
  tokenLifetime: number;
  servedBy?: string | undefined;
  /** A vaulted resource's secret: sealed in the vault, never shown again. */
  secret?: string | undefined;
  /** A brokered resource's provider and the upstream scopes it needs. */
  providerId?: string | undefined;
  upstreamScopes?: readonly string[] | undefined;
}

interface ResourceRow {
  identifier: string;
  name: string;
  scopes: string;
  credential_type: CredentialType;
  token_lifetime: number;
  served_by: string | null;
  created_at: number;
  provider_id: string | null;
  upstream_scopes: string;
}

const fromRow = (row: ResourceRow): Resource => ({
  identifier: row.identifier,
  name: row.name,
  scopes: JSON.parse(row.scopes) as string[],
  credentialType: row.credential_type,
  tokenLifetime: row.token_lifetime,
  servedBy: row.served_by,
  createdAt: row.created_at,
  providerId: row.provider_id,
  upstreamScopes: JSON.parse(row.upstream_scopes) as string[],
});

/** Resources: what tokens are for. The identifier is the token's `aud` (RFC 8707, RFC 9068 §3). */
export class Resources {
  private readonly byId;
  private readonly cache = new Map<string, Resource>();

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly secrets: ResourceSecrets) {
    this.byId = db.prepare('SELECT * FROM resources WHERE identifier = ?');
  }

  /**
   * Registers a resource. A vaulted one comes with its secret, sealed in the vault in the caller's
   * transaction: a locked vault refuses before anything is written, and a failure rolls both back.
   */
  create(request: NewResource): Resource {
    const brokered = request.credentialType === 'brokered';
    if (brokered && request.providerId === undefined) throw new DirectoryError('provider_id: a brokered resource names its provider (latchkey resource create --type brokered --provider ID)');
    if (!brokered && (request.providerId !== undefined || request.upstreamScopes !== undefined)) throw new DirectoryError('provider_id: only a brokered resource names a provider and upstream scopes');
    if (brokered && !this.db.prepare('SELECT 1 FROM providers WHERE id = ?').get(request.providerId)) throw new DirectoryError(`provider_id: unknown provider ${request.providerId}`);
    if (request.credentialType === 'vaulted' && request.secret === undefined) throw new DirectoryError('secret: a vaulted resource needs its secret (latchkey resource create --type vaulted --secret-stdin)');
    if (request.credentialType !== 'vaulted' && request.secret !== undefined) throw new DirectoryError('secret: only a vaulted resource holds a secret');
    if (request.credentialType === 'vaulted') this.secrets.requireUnlocked();
    if (this.get(request.identifier)) throw new DirectoryError(`a resource with identifier ${request.identifier} exists already`, 409);
    if (request.servedBy && !this.db.prepare('SELECT 1 FROM applications WHERE client_id = ?').get(request.servedBy)) {
      throw new DirectoryError(`unknown application: ${request.servedBy}`);
    }
    this.db.prepare(
      'INSERT INTO resources (identifier, name, scopes, credential_type, token_lifetime, served_by, created_at, provider_id, upstream_scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(request.identifier, request.name, JSON.stringify([...new Set(request.scopes)]), request.credentialType, request.tokenLifetime, request.servedBy ?? null, this.clock.now(),
      request.providerId ?? null, JSON.stringify([...new Set(request.upstreamScopes ?? [])]));
    if (request.secret !== undefined) this.secrets.put(request.identifier, request.secret);
    this.cache.delete(request.identifier);
    return this.get(request.identifier)!;
  }

  /** Looked up on every issuance; cached, since resources change only through this class. */
  get(identifier: string): Resource | null {
    const cached = this.cache.get(identifier);
    if (cached !== undefined) return cached;
    const row = this.byId.get(identifier) as ResourceRow | undefined;
    const resource = row ? fromRow(row) : null;
    // A row read inside a transaction may still be rolled back: only committed rows are kept.
    if (resource && !this.db.inTransaction) this.cache.set(identifier, resource);
    return resource;
  }

  /** Replaces a vaulted resource's secret (rotation): one upsert of its vault item, in the caller's transaction. */
  replaceSecret(identifier: string, secret: string): Resource {
    const resource = this.get(identifier);
    if (!resource) throw new DirectoryError('unknown resource', 404);
    if (resource.credentialType !== 'vaulted') throw new DirectoryError(`${identifier} is not a vaulted resource: it holds no secret`, 409);
    this.secrets.put(identifier, secret);
    return resource;
  }

  /** The resources that name a provider (a provider in use cannot be deleted). */
  ofProvider(providerId: string): Resource[] {
    return (this.db.prepare('SELECT * FROM resources WHERE provider_id = ? ORDER BY created_at, identifier').all(providerId) as ResourceRow[]).map(fromRow);
  }

  list(): Resource[] {
    return (this.db.prepare('SELECT * FROM resources ORDER BY created_at, identifier').all() as ResourceRow[]).map(fromRow);
  }

  /** The longest token lifetime of any resource: how long a retired signing key must stay published. */
  longestLifetimeSeconds(): number {
    const row = this.db.prepare('SELECT MAX(token_lifetime) AS longest FROM resources').get() as { longest: number | null };
    return row.longest ?? 0;
  }

  /** When a vaulted resource's secret was last set (epoch ms), or null when it holds none. Never the secret. */
  secretSetAt(identifier: string): number | null {
    return this.secrets.setAtOf(identifier);
  }
}
