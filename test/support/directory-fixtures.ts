// The directory as the unit tests need it: resources, applications, the owner, API keys and providers, made
// through the directory's own create and update methods. Every such call of the unit tests lives here, so a
// change of their input type (the admin API's wire shape today) is adapted in this one module.
import type { JWK } from 'jose';
import { DEFAULT_MAX_DELEGATION_DEPTH, type ClientAuthMethod, type ConsentMode, type CredentialType, type GrantType } from '../../shared/domain.js';
import type { Providers } from '../../main/core/brokered/providers.js';
import { grantBackgroundAccess, type BackgroundAccessDeps } from '../../main/core/consent/background-access.js';
import type { Consent } from '../../main/core/consent/consents.js';
import type { ApiKeys } from '../../main/core/directory/api-keys.js';
import type { Application, Applications } from '../../main/core/directory/applications.js';
import type { Resource, Resources } from '../../main/core/directory/resources.js';
import type { User, Users } from '../../main/core/directory/users.js';

export interface Directory {
  applications: Applications;
  resources: Resources;
  users: Users;
  apiKeys: ApiKeys;
  providers: Providers;
}

export interface ResourceSpec {
  identifier: string;
  name?: string;
  scopes?: string[];
  credentialType?: CredentialType;
  /** The application that serves it: the one that may exchange tokens addressed to it. */
  servedBy?: string;
  /** Seconds. */
  tokenLifetime?: number;
  /** A vaulted resource's static secret. */
  secret?: string;
  /** A brokered resource's provider and the upstream scopes it needs. */
  providerId?: string;
  upstreamScopes?: string[];
}

export function createResource(directory: Directory, spec: ResourceSpec): Resource {
  return directory.resources.create({
    name: spec.name ?? `Resource ${spec.identifier}`,
    identifier: spec.identifier,
    scopes: spec.scopes ?? [],
    credentialType: spec.credentialType ?? 'token',
    tokenLifetime: spec.tokenLifetime ?? 600,
    servedBy: spec.servedBy,
    secret: spec.secret,
    providerId: spec.providerId,
    upstreamScopes: spec.upstreamScopes,
  });
}

export interface ApplicationSpec {
  name?: string;
  /** Default: client_secret_basic (a confidential client). `none` makes a public client. */
  authMethod?: ClientAuthMethod;
  /** Default: the directory's default for the client type (client_credentials for a confidential client). */
  grants?: GrantType[];
  /** The resources it may ask tokens for. */
  dependencies?: string[];
  /** The scopes of its dependencies it may have; absent: all of them. */
  scopes?: string[];
  redirectUris?: string[];
  jwks?: { keys: JWK[] };
  consentMode?: ConsentMode;
  maxDelegationDepth?: number;
}

export function createApplication(directory: Directory, spec: ApplicationSpec = {}): Application {
  return directory.applications.create({
    name: spec.name ?? 'Test application',
    identityType: 'agent',
    authMethod: spec.authMethod ?? 'client_secret_basic',
    resources: spec.dependencies ?? [],
    redirectUris: spec.redirectUris ?? [],
    grantTypes: spec.grants,
    scopes: spec.scopes,
    jwks: spec.jwks as { keys: Record<string, unknown>[] } | undefined,
    consentMode: spec.consentMode ?? 'explicit',
    maxDelegationDepth: spec.maxDelegationDepth ?? DEFAULT_MAX_DELEGATION_DEPTH,
    idTokenAlg: 'RS256',
  }).application;
}

/** The admin gives an application another dependency (`latchkey app update --resource`). */
export function addDependency(directory: Directory, clientId: string, resource: string): Application {
  return directory.applications.update(clientId, { addResources: [resource] }).application;
}

/** The admin takes a resource away from an application (`latchkey app update --remove-resource`). */
export function removeDependency(directory: Directory, clientId: string, resource: string): Application {
  return directory.applications.update(clientId, { removeResources: [resource] }).application;
}

/** The owner, as `latchkey setup` makes them. */
export function createOwner(directory: Directory, spec: { name?: string; email?: string } = {}): User {
  return directory.users.setupOwner({ name: spec.name ?? 'Ada Owner', email: spec.email ?? 'ada@example.test' }).user;
}

/** A new `lk_sk_…` key of the application, and its id (to revoke it). */
export function createApiKey(directory: Directory, clientId: string): { id: string; apiKey: string } {
  return directory.apiKeys.create(clientId);
}

/** An upstream OAuth provider with fixed endpoints and no client secret (brokered resources name one). */
export function createProvider(directory: Directory, name = 'Upstream'): string {
  return directory.providers.create({
    name,
    endpoints: { authorizationEndpoint: 'https://upstream.example.test/authorize', tokenEndpoint: 'https://upstream.example.test/token' },
    clientId: 'latchkey-at-upstream',
    scopes: [],
  }).id;
}

/**
 * The user's background-access grant to an application (`latchkey consent grant --background`): a background
 * consent backing one token family. Runs in its own transaction, as the admin API runs it.
 */
export function grantBackground(deps: BackgroundAccessDeps & { transaction: <T>(work: () => T) => T }, spec: { clientId: string; resources: string[]; scopes?: string[] }): Consent {
  return deps.transaction(() => grantBackgroundAccess(deps, { clientId: spec.clientId, resources: spec.resources, scopes: spec.scopes })).consent;
}
