import type { CreateResourceRequest, ResourceView } from '../../../shared/admin-api.js';
import { createResourceRequest } from '../../../shared/admin-api.js';
import type { CredentialType } from '../../../shared/domain.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { DirectoryError } from './errors.js';

export interface Resource {
  identifier: string;
  name: string;
  scopes: string[];
  credentialType: CredentialType;
  tokenLifetime: number;
  servedBy: string | null;
  createdAt: number;
}

interface ResourceRow {
  identifier: string;
  name: string;
  scopes: string;
  credential_type: CredentialType;
  token_lifetime: number;
  served_by: string | null;
  created_at: number;
}

const fromRow = (row: ResourceRow): Resource => ({
  identifier: row.identifier,
  name: row.name,
  scopes: JSON.parse(row.scopes) as string[],
  credentialType: row.credential_type,
  tokenLifetime: row.token_lifetime,
  servedBy: row.served_by,
  createdAt: row.created_at,
});

/** Resources: what tokens are for. The identifier is the token's `aud` (RFC 8707, RFC 9068 §3). */
export class Resources {
  private readonly byId;
  private readonly cache = new Map<string, Resource>();

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.byId = db.prepare('SELECT * FROM resources WHERE identifier = ?');
  }

  create(input: CreateResourceRequest): Resource {
    const parsed = createResourceRequest.safeParse(input);
    if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
    const request = parsed.data;
    if (request.credential_type !== 'token') throw new DirectoryError(`credential type ${request.credential_type} is not available yet`);
    if (this.get(request.identifier)) throw new DirectoryError(`a resource with identifier ${request.identifier} exists already`, 409);
    if (request.served_by && !this.db.prepare('SELECT 1 FROM applications WHERE client_id = ?').get(request.served_by)) {
      throw new DirectoryError(`unknown application: ${request.served_by}`);
    }
    this.db.prepare(
      'INSERT INTO resources (identifier, name, scopes, credential_type, token_lifetime, served_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(request.identifier, request.name, JSON.stringify([...new Set(request.scopes)]), request.credential_type, request.token_lifetime, request.served_by ?? null, this.clock.now());
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

  list(): Resource[] {
    return (this.db.prepare('SELECT * FROM resources ORDER BY created_at, identifier').all() as ResourceRow[]).map(fromRow);
  }

  /** The longest token lifetime of any resource: how long a retired signing key must stay published. */
  longestLifetimeSeconds(): number {
    const row = this.db.prepare('SELECT MAX(token_lifetime) AS longest FROM resources').get() as { longest: number | null };
    return row.longest ?? 0;
  }

  view(resource: Resource): ResourceView {
    return {
      identifier: resource.identifier,
      name: resource.name,
      scopes: resource.scopes,
      credential_type: resource.credentialType,
      token_lifetime: resource.tokenLifetime,
      served_by: resource.servedBy,
      created_at: new Date(resource.createdAt).toISOString(),
    };
  }
}
