import type { ClientAuthMethod, ConsentMode, GrantType, IdentityType, IdTokenAlg } from '../../../shared/domain.js';
import { GRANT_TYPE_ALIASES, GRANT_TYPES } from '../../../shared/domain.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { hashSecret, newId, randomSecret } from '../store/credentials.js';
import { DirectoryError } from './errors.js';
import { parseJwks } from './jwks.js';
import { redirectUriProblem } from '../oauth/redirect-uri.js';

export interface Application {
  clientId: string;
  name: string;
  identityType: IdentityType;
  subType: string | null;
  clientType: 'confidential' | 'public';
  authMethod: ClientAuthMethod;
  jwks: { keys: Record<string, unknown>[] } | null;
  grantTypes: GrantType[];
  /** Null: any scope of its dependencies. */
  scopes: string[] | null;
  redirectUris: string[];
  consentMode: ConsentMode;
  registration: 'admin' | 'dynamic';
  maxDelegationDepth: number;
  /** What its ID tokens are signed with (`id_token_signed_response_alg`). */
  idTokenAlg: IdTokenAlg;
  /** The admin's permission to impersonate users (issue 4 item 2b); off by default. */
  allowImpersonation: boolean;
  enabled: boolean;
  createdAt: number;
}

interface ApplicationRow {
  client_id: string;
  name: string;
  identity_type: IdentityType;
  sub_type: string | null;
  client_type: 'confidential' | 'public';
  auth_method: ClientAuthMethod;
  jwks: string | null;
  grant_types: string;
  scopes: string | null;
  redirect_uris: string;
  consent_mode: ConsentMode;
  registration: 'admin' | 'dynamic';
  max_delegation_depth: number;
  id_token_alg: IdTokenAlg;
  allow_impersonation: number;
  enabled: number;
  created_at: number;
}

const fromRow = (row: ApplicationRow): Application => ({
  clientId: row.client_id,
  name: row.name,
  identityType: row.identity_type,
  subType: row.sub_type,
  clientType: row.client_type,
  authMethod: row.auth_method,
  jwks: row.jwks ? (JSON.parse(row.jwks) as Application['jwks']) : null,
  grantTypes: JSON.parse(row.grant_types) as GrantType[],
  scopes: row.scopes ? (JSON.parse(row.scopes) as string[]) : null,
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  consentMode: row.consent_mode,
  registration: row.registration,
  maxDelegationDepth: row.max_delegation_depth,
  idTokenAlg: row.id_token_alg,
  allowImpersonation: row.allow_impersonation === 1,
  enabled: row.enabled === 1,
  createdAt: row.created_at,
});

/** A short name (`api_key`) to its grant type; own keys only, so `constructor` stays an unknown name. */
function normalizeGrantType(name: string): string {
  return Object.hasOwn(GRANT_TYPE_ALIASES, name) ? GRANT_TYPE_ALIASES[name]! : name;
}

/** What the admin registers an application with; the admin layer fills in the defaults. */
export interface NewApplication {
  name: string;
  identityType: IdentityType;
  subType?: string | undefined;
  authMethod: ClientAuthMethod;
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  /** As the admin named them (aliases allowed); undefined: the defaults of its client type. */
  grantTypes?: readonly string[] | undefined;
  resources: readonly string[];
  /** Undefined: any scope of its resources. */
  scopes?: readonly string[] | undefined;
  redirectUris: readonly string[];
  consentMode: ConsentMode;
  maxDelegationDepth: number;
  idTokenAlg: IdTokenAlg;
}

/** What an update changes; what is undefined stays as it is. */
export interface ApplicationUpdate {
  addResources?: readonly string[] | undefined;
  removeResources?: readonly string[] | undefined;
  addGrantTypes?: readonly string[] | undefined;
  removeGrantTypes?: readonly string[] | undefined;
  /** The allowed scopes; null: any scope of its resources. */
  scopes?: readonly string[] | null | undefined;
  consentMode?: ConsentMode | undefined;
  allowImpersonation?: boolean | undefined;
}

export interface CreatedApplication {
  application: Application;
  /** Shown once, never stored in the clear. */
  clientSecret: string | null;
}

/** What an update changed, for its audit row: only what differs from before. */
export interface ApplicationChanges {
  resources_added?: string[];
  resources_removed?: string[];
  grant_types_added?: string[];
  grant_types_removed?: string[];
  scopes?: { from: string[] | null; to: string[] | null };
  consent_mode?: { from: ConsentMode; to: ConsentMode };
  allow_impersonation?: { from: boolean; to: boolean };
}

/** What the token endpoint needs of an application on every request, read together and cached. */
interface Entry {
  app: Application;
  secretHashes: Buffer[];
  dependencies: string[];
}

/**
 * Applications (OAuth clients): registration, lookup, dependencies, secrets. Every write to an
 * application, its secrets or its dependencies goes through this class, which forgets its cached entry;
 * lookups on the token endpoint's hot path are then served from memory.
 */
export class Applications {
  private readonly byId;
  private readonly secretsOf;
  private readonly dependenciesOf;
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.byId = db.prepare('SELECT * FROM applications WHERE client_id = ?');
    this.secretsOf = db.prepare('SELECT secret_hash FROM client_secrets WHERE client_id = ? AND revoked_at IS NULL');
    this.dependenciesOf = db.prepare('SELECT resource FROM application_dependencies WHERE client_id = ? ORDER BY resource');
  }

  /**
   * Registers an application. Validates everything before writing anything; the caller runs this inside
   * the transaction that also writes the audit row.
   */
  create(request: NewApplication): CreatedApplication {
    const clientType = request.authMethod === 'none' ? 'public' : 'confidential';

    const grantTypes = [...new Set((request.grantTypes ?? defaultGrants(clientType)).map(normalizeGrantType))];
    checkGrants(grantTypes, { asked: request.grantTypes !== undefined, clientType, redirectUris: request.redirectUris, hasJwks: request.jwks !== undefined });
    for (const [index, uri] of request.redirectUris.entries()) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new DirectoryError(`redirect_uris.${index}: ${problem}`);
    }
    const jwks = request.jwks ? parseJwks(request.jwks) : null;
    if (request.authMethod === 'private_key_jwt' && !jwks) throw new DirectoryError('private_key_jwt needs a JWKS with the client\'s public keys (--jwks FILE)');

    for (const resource of request.resources) {
      if (!this.db.prepare('SELECT 1 FROM resources WHERE identifier = ?').get(resource)) throw new DirectoryError(`unknown resource: ${resource}`);
    }

    const clientId = newId('app');
    const now = this.clock.now();
    this.db.prepare(
      `INSERT INTO applications (client_id, name, identity_type, sub_type, client_type, auth_method, jwks, grant_types, scopes,
         redirect_uris, consent_mode, registration, max_delegation_depth, id_token_alg, enabled, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'admin', ?, ?, 1, ?)`,
    ).run(
      clientId, request.name, request.identityType, request.subType ?? null, clientType, request.authMethod,
      jwks ? JSON.stringify(jwks) : null, JSON.stringify(grantTypes), request.scopes ? JSON.stringify([...new Set(request.scopes)]) : null,
      JSON.stringify([...new Set(request.redirectUris)]), request.consentMode, request.maxDelegationDepth, request.idTokenAlg, now,
    );
    const addDependency = this.db.prepare('INSERT INTO application_dependencies (client_id, resource) VALUES (?, ?)');
    for (const resource of new Set(request.resources)) addDependency.run(clientId, resource);

    let clientSecret: string | null = null;
    if (request.authMethod === 'client_secret_basic' || request.authMethod === 'client_secret_post') {
      clientSecret = randomSecret();
      this.db.prepare('INSERT INTO client_secrets (id, client_id, secret_hash, created_at) VALUES (?, ?, ?, ?)').run(newId('sec'), clientId, hashSecret(clientSecret), now);
    }
    this.cache.delete(clientId);
    return { application: this.get(clientId)!, clientSecret };
  }

  /**
   * Registers a client that registered itself (RFC 7591, issue 3 item 7): public, authorization code
   * (and refresh), its redirect URIs, a display name, no dependencies and no scope restriction: the
   * user's consent decides what it gets. The caller validated the metadata and runs this inside the
   * transaction that writes the audit row.
   */
  createDynamic(client: { name: string; redirectUris: readonly string[]; grantTypes: readonly GrantType[]; idTokenAlg: IdTokenAlg }): Application {
    const clientId = newId('app');
    this.db.prepare(
      `INSERT INTO applications (client_id, name, identity_type, client_type, auth_method, grant_types, redirect_uris, registration, id_token_alg, created_at)
       VALUES (?, ?, 'agent', 'public', 'none', ?, ?, 'dynamic', ?, ?)`,
    ).run(clientId, client.name, JSON.stringify(client.grantTypes), JSON.stringify([...new Set(client.redirectUris)]), client.idTokenAlg, this.clock.now());
    this.cache.delete(clientId);
    return this.get(clientId)!;
  }

  /** How many dynamically registered clients exist, enabled or not (they are capped). */
  countDynamic(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM applications WHERE registration = 'dynamic'").get() as { n: number }).n;
  }

  /**
   * Deletes an application; its secrets, API keys, dependencies, consents, codes, pending consent
   * transactions and token families go with it (ON DELETE CASCADE). The caller first ends what it issued
   * (consents withdrawn, live access tokens revoked) in the same transaction, so the audit log says so;
   * the audit log keeps every row naming it, and issued_tokens keeps the (revoked) records of its access
   * tokens, which introspection then reports inactive.
   */
  delete(clientId: string): void {
    const result = this.db.prepare('DELETE FROM applications WHERE client_id = ?').run(clientId);
    this.cache.delete(clientId);
    if (result.changes === 0) throw new DirectoryError(`unknown application: ${clientId}`, 404);
  }

  get(clientId: string): Application | null {
    return this.entry(clientId)?.app ?? null;
  }

  list(): Application[] {
    return (this.db.prepare('SELECT * FROM applications ORDER BY created_at, client_id').all() as ApplicationRow[]).map(fromRow);
  }

  /** Hashes of the application's active secrets (more than one while a secret is being rotated). */
  secretHashes(clientId: string): readonly Buffer[] {
    return this.entry(clientId)?.secretHashes ?? [];
  }

  dependencies(clientId: string): readonly string[] {
    return this.entry(clientId)?.dependencies ?? [];
  }

  hasDependency(clientId: string, resource: string): boolean {
    return this.dependencies(clientId).includes(resource);
  }

  /** Adds a dependency (a resource the application may ask tokens for). Call within the transaction that audits it. */
  addDependency(clientId: string, resource: string): void {
    if (!this.get(clientId)) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    if (!this.db.prepare('SELECT 1 FROM resources WHERE identifier = ?').get(resource)) throw new DirectoryError(`unknown resource: ${resource}`);
    this.db.prepare('INSERT OR IGNORE INTO application_dependencies (client_id, resource) VALUES (?, ?)').run(clientId, resource);
    this.cache.delete(clientId);
  }

  /**
   * Changes what `app create` set (issue 4 item 2, `latchkey app update`; issue 6 item 1): adds and removes
   * dependencies and grant types, replaces the allowed scopes (checked as at creation), sets the consent mode
   * and the permission to impersonate. Validates everything before writing anything; the caller runs this
   * inside the transaction that audits the changes it returns and ends what was issued for removed resources.
   * A self-registered client is not changed here: it has what registration gave it.
   */
  update(clientId: string, request: ApplicationUpdate): { application: Application; changes: ApplicationChanges } {
    const app = this.get(clientId);
    if (!app) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    if (Object.values(request).every((value) => value === undefined)) throw new DirectoryError('nothing to change: give --resource, --remove-resource, --grant, --remove-grant, --scope, --consent, --allow-impersonation or --deny-impersonation');
    if (app.registration === 'dynamic') throw new DirectoryError('a self-registered client cannot be changed; register an application with `latchkey app create` instead', 409);

    const changes: ApplicationChanges = {};
    const resourceExists = (resource: string) => this.db.prepare('SELECT 1 FROM resources WHERE identifier = ?').get(resource) !== undefined;
    const dependencies = this.dependencies(clientId);
    const removing = new Set(request.removeResources ?? []);
    for (const resource of removing) {
      if (!resourceExists(resource)) throw new DirectoryError(`unknown resource: ${resource}`);
      if (request.addResources?.includes(resource)) throw new DirectoryError(`${resource} is both added and removed`);
    }
    const newResources = [...new Set(request.addResources ?? [])].filter((resource) => !dependencies.includes(resource));
    for (const resource of newResources) {
      if (!resourceExists(resource)) throw new DirectoryError(`unknown resource: ${resource}`);
    }
    const removedResources = dependencies.filter((resource) => removing.has(resource));
    const resultingResources = [...dependencies.filter((resource) => !removing.has(resource)), ...newResources];

    const added = (request.addGrantTypes ?? []).map(normalizeGrantType);
    const removingGrants = new Set((request.removeGrantTypes ?? []).map(normalizeGrantType));
    for (const grant of removingGrants) {
      if (!(Object.values(GRANT_TYPES) as string[]).includes(grant)) throw new DirectoryError(`unknown grant type: ${grant}`);
      if (added.includes(grant)) throw new DirectoryError(`${grant} is both added and removed`);
    }
    const newGrants = [...new Set(added)].filter((grant) => !(app.grantTypes as string[]).includes(grant));
    const removedGrants = app.grantTypes.filter((grant) => removingGrants.has(grant));
    const grantTypes = [...app.grantTypes.filter((grant) => !removingGrants.has(grant)), ...newGrants];
    if (grantTypes.length === 0) throw new DirectoryError('an application needs at least one grant type');
    if (newGrants.length || removedGrants.length) {
      checkGrants(grantTypes, { asked: newGrants.length > 0, added: newGrants, clientType: app.clientType, redirectUris: app.redirectUris, hasJwks: app.jwks !== null });
    }

    // Scopes belong to resources: each allowed scope is a scope of one of the application's resources.
    let scopes: string[] | null | undefined;
    if (request.scopes !== undefined) {
      scopes = request.scopes === null ? null : [...new Set(request.scopes)];
      if (scopes) {
        const scopesOf = this.db.prepare('SELECT scopes FROM resources WHERE identifier = ?');
        const offered = new Set(resultingResources.flatMap((resource) => JSON.parse((scopesOf.get(resource) as { scopes: string }).scopes) as string[]));
        for (const scope of scopes) {
          if (!offered.has(scope)) throw new DirectoryError(`scope ${scope} is not a scope of the application's resources`);
        }
      }
    }
    // Only a client that can prove who it is may ever act for a user without them.
    if (request.allowImpersonation === true && app.clientType !== 'confidential') throw new DirectoryError('a public client (auth method none) cannot be allowed to impersonate users');

    if (newResources.length) {
      const addDependency = this.db.prepare('INSERT INTO application_dependencies (client_id, resource) VALUES (?, ?)');
      for (const resource of newResources) addDependency.run(clientId, resource);
      changes.resources_added = newResources;
    }
    if (removedResources.length) {
      const removeDependency = this.db.prepare('DELETE FROM application_dependencies WHERE client_id = ? AND resource = ?');
      for (const resource of removedResources) removeDependency.run(clientId, resource);
      changes.resources_removed = removedResources;
    }
    if (newGrants.length || removedGrants.length) {
      this.db.prepare('UPDATE applications SET grant_types = ? WHERE client_id = ?').run(JSON.stringify(grantTypes), clientId);
      if (newGrants.length) changes.grant_types_added = newGrants;
      if (removedGrants.length) changes.grant_types_removed = removedGrants;
    }
    if (scopes !== undefined && JSON.stringify(scopes) !== JSON.stringify(app.scopes)) {
      this.db.prepare('UPDATE applications SET scopes = ? WHERE client_id = ?').run(scopes === null ? null : JSON.stringify(scopes), clientId);
      changes.scopes = { from: app.scopes, to: scopes };
    }
    if (request.consentMode !== undefined && request.consentMode !== app.consentMode) {
      this.db.prepare('UPDATE applications SET consent_mode = ? WHERE client_id = ?').run(request.consentMode, clientId);
      changes.consent_mode = { from: app.consentMode, to: request.consentMode };
    }
    if (request.allowImpersonation !== undefined && request.allowImpersonation !== app.allowImpersonation) {
      this.db.prepare('UPDATE applications SET allow_impersonation = ? WHERE client_id = ?').run(request.allowImpersonation ? 1 : 0, clientId);
      changes.allow_impersonation = { from: app.allowImpersonation, to: request.allowImpersonation };
    }
    this.cache.delete(clientId);
    return { application: this.get(clientId)!, changes };
  }

  setEnabled(clientId: string, enabled: boolean): Application {
    const result = this.db.prepare('UPDATE applications SET enabled = ? WHERE client_id = ?').run(enabled ? 1 : 0, clientId);
    this.cache.delete(clientId);
    if (result.changes === 0) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    return this.get(clientId)!;
  }

  /**
   * The cached entry, read from SQLite when missing. What is read inside a transaction is not kept: the
   * transaction may still roll back, and a cached row must be a committed one.
   */
  private entry(clientId: string): Entry | null {
    const cached = this.cache.get(clientId);
    if (cached) return cached;
    const row = this.byId.get(clientId) as ApplicationRow | undefined;
    if (!row) return null;
    const entry: Entry = {
      app: fromRow(row),
      secretHashes: (this.secretsOf.all(clientId) as Array<{ secret_hash: Buffer }>).map((secret) => secret.secret_hash),
      dependencies: (this.dependenciesOf.all(clientId) as Array<{ resource: string }>).map((dependency) => dependency.resource),
    };
    if (!this.db.inTransaction) this.cache.set(clientId, entry);
    return entry;
  }
}

/**
 * The grant types an application may be registered for: known (`added`: the new ones, when only some are),
 * and consistent with the client and what it registered (`asked`: the admin named them).
 */
function checkGrants(grantTypes: readonly string[], client: { asked: boolean; added?: readonly string[]; clientType: 'confidential' | 'public'; redirectUris: readonly string[]; hasJwks: boolean }): void {
  for (const grant of client.added ?? grantTypes) {
    if (!(Object.values(GRANT_TYPES) as string[]).includes(grant)) throw new DirectoryError(`unknown grant type: ${grant}`);
  }
  // OAuth 2.1 §4.2: client credentials only for confidential clients; the same holds for every
  // autonomous grant, since a public client cannot prove who it is.
  if (client.clientType === 'public' && grantTypes.some((grant) => grant !== GRANT_TYPES.authorizationCode && grant !== GRANT_TYPES.refreshToken)) {
    throw new DirectoryError('a public client (auth method none) may only use authorization_code and refresh_token');
  }
  // OAuth 2.1 §2.3.1: every client of the authorization endpoint registers its redirect URIs. (A public
  // client's default grants ask for nothing; without a redirect URI the authorization endpoint refuses it.)
  if (client.asked && grantTypes.includes(GRANT_TYPES.authorizationCode) && client.redirectUris.length === 0) {
    throw new DirectoryError('authorization_code needs at least one redirect URI (--redirect-uri URI)');
  }
  if (grantTypes.includes(GRANT_TYPES.refreshToken) && !grantTypes.includes(GRANT_TYPES.authorizationCode) && !grantTypes.includes(GRANT_TYPES.ciba)) {
    throw new DirectoryError('refresh_token comes with authorization_code or ciba: a refresh token is only issued for a user\'s authorization');
  }
  if (grantTypes.includes(GRANT_TYPES.jwtBearer) && !client.hasJwks) throw new DirectoryError('the jwt-bearer grant needs a JWKS with the client\'s public keys (--jwks FILE)');
}

function defaultGrants(clientType: 'confidential' | 'public'): string[] {
  return clientType === 'public' ? [GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken] : [GRANT_TYPES.clientCredentials];
}
