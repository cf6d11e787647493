import { IDENTITY_SCOPES, isResourceIdentifier, isScopeToken } from '../../../shared/domain.js';
import type { Application, Applications } from '../directory/applications.js';
import type { Resource, Resources } from '../directory/resources.js';
import { InvalidScope, InvalidTarget } from '../oauth/errors.js';
import type { Params } from '../oauth/params.js';

/** What a credential is for: one resource, and the scopes of it. */
export interface Target {
  resource: Resource;
  scopes: string[];
}

/** How a front-channel caller refuses: the authorization endpoint redirects, the backchannel endpoint answers JSON. */
export type Refuse = (error: string, description: string, reason?: string) => never;

/** A token for the userinfo endpoint lives as long as a default resource token. */
const USERINFO_TOKEN_LIFETIME = 600;

export const isIdentityScope = (scope: string): boolean => (IDENTITY_SCOPES as readonly string[]).includes(scope);

/**
 * Latchkey itself as an audience: a user's token without a resource is good only at the userinfo endpoint
 * (issue 3 item 3), for the identity scopes.
 */
export function latchkeyAudience(issuer: string): Resource {
  return {
    identifier: issuer, name: 'Latchkey', scopes: IDENTITY_SCOPES.filter((scope) => scope !== 'offline_access'), credentialType: 'token',
    tokenLifetime: USERINFO_TOKEN_LIFETIME, servedBy: null, createdAt: 0, providerId: null, upstreamScopes: [],
  };
}

/**
 * The scopes a request ends up with: no `scope` means all that is allowed; each asked scope must be well
 * formed (RFC 6749 §3.3) and allowed, else `invalid_scope` (§5.2), never a silent narrowing.
 */
export function narrowScopes(allowed: readonly string[], scopeParam: string | undefined, refusal: string): string[] {
  if (scopeParam === undefined) return [...allowed];
  const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
  for (const scope of asked) {
    if (!isScopeToken(scope)) throw new InvalidScope('malformed scope');
    if (!allowed.includes(scope)) throw new InvalidScope(refusal, { reason: `scope not allowed: ${scope.slice(0, 100)}` });
  }
  return asked;
}

/**
 * "Which resource, and which scopes of it, may this application have": the one place for the rules of
 * RFC 8707 (resource indicators) and of scopes, for every grant and for the authorization requests
 * (oidc-provider's `check_resource`). Scopes belong to resources; an application may have a resource's
 * scope when the admin allowed it that scope (or all), and a self-registered client whatever the user gives it.
 */
export class TargetResolver {
  constructor(private readonly applications: Applications, private readonly resources: Resources) {}

  /** Whether the application may have this scope of a resource. */
  mayHave(app: Application, scope: string): boolean {
    return app.registration === 'dynamic' || app.scopes === null || app.scopes.includes(scope);
  }

  /**
   * A dependency of the application, named by identifier. One answer for unknown and not-allowed: the token
   * endpoint is not a directory of resources.
   */
  dependency(app: Application, identifier: string, subject = 'resource'): Resource {
    if (!isResourceIdentifier(identifier)) throw new InvalidTarget('resource must be an absolute URI without a fragment');
    const resource = this.resources.get(identifier);
    if (!resource || !this.applications.hasDependency(app.clientId, identifier)) {
      throw new InvalidTarget('the resource is unknown or not available to this client', { reason: resource ? `${subject} is not a dependency of the client` : `unknown ${subject}` });
    }
    return resource;
  }

  /**
   * What an autonomous request may have: one resource among the application's dependencies (RFC 8707 §2: the
   * only one when none is named), scopes within what it may have of that resource.
   */
  autonomous(app: Application, params: Params): Target {
    const requested = params.all('resource');
    if (requested.length > 1) throw new InvalidTarget('ask for one resource per token');
    let identifier = requested[0];
    if (identifier === undefined) {
      const dependencies = this.applications.dependencies(app.clientId);
      if (dependencies.length !== 1) throw new InvalidTarget('the resource parameter is required');
      identifier = dependencies[0]!;
    }
    const resource = this.dependency(app, identifier);
    // A brokered resource is a user's upstream account, and an autonomous request has no user (issue 5 item 4:
    // only through impersonation): RFC 8707 §2 calls a resource the server will not issue for `invalid_target`.
    if (resource.credentialType === 'brokered') {
      throw new InvalidTarget('a brokered resource is reached only for a user: use impersonation (a substitute-user token exchange) or user delegation', { reason: 'autonomous access to a brokered resource' });
    }
    const allowed = resource.scopes.filter((scope) => this.mayHave(app, scope));
    return { resource, scopes: narrowScopes(allowed, params.get('scope'), 'a requested scope is not allowed') };
  }

  /**
   * Token exchange (RFC 8693 §2.1): `resource` (RFC 8707) and `audience` both name the target; Latchkey's
   * audiences are resource identifiers, so together they name one resource, a dependency of the requester
   * (§2.2.2: `invalid_target` otherwise). Its scopes depend on the chain: the grant narrows them.
   */
  exchange(app: Application, params: Params): Resource {
    const named = [...new Set([...params.all('resource'), ...params.all('audience')])];
    if (named.length === 0) throw new InvalidTarget('name the target with resource (or audience)');
    if (named.length > 1) throw new InvalidTarget('ask for one target per token');
    return this.dependency(app, named[0]!, 'target');
  }

  /**
   * The target of a token from a user's authorization (code, CIBA, refresh). RFC 8707 §2.2: the token request
   * may pick one of the authorized resources, each token has one audience; none, and the authorization has at
   * most one, or it is Latchkey itself. The consent outlives the admin's changes but never widens them (issue
   * 6 item 1): a resource the application no longer depends on is not reached, and only the scopes it may
   * still have are issued. A self-registered client has no dependencies: the user's consent is all it has.
   * RFC 6749 §6: `scope` may only narrow what was granted.
   */
  user(app: Application, authorization: { resources: readonly string[]; scopes: readonly string[] }, params: Params, issuer: string): Target {
    const asked = params.all('resource');
    if (asked.length > 1) throw new InvalidTarget('ask for one resource per token');
    let identifier: string | null;
    if (asked[0] !== undefined) {
      if (!authorization.resources.includes(asked[0])) throw new InvalidTarget('the user did not authorize this resource for this client', { reason: 'resource outside the grant' });
      identifier = asked[0];
    } else {
      if (authorization.resources.length > 1) throw new InvalidTarget('the authorization covers several resources: name one with the resource parameter');
      identifier = authorization.resources[0] ?? null;
    }
    const resource = identifier === null ? latchkeyAudience(issuer) : this.resources.get(identifier);
    if (!resource) throw new InvalidTarget('the resource no longer exists');
    if (identifier !== null && app.registration === 'admin' && !this.applications.hasDependency(app.clientId, identifier)) {
      throw new InvalidTarget('the resource is unknown or not available to this client', { reason: 'resource is no longer a dependency of the client' });
    }
    // What was granted and the application may still have; of that, what means something to this audience: a
    // token for one resource carries only its scopes. The identity scopes are the user's to give.
    const allowed = authorization.scopes.filter((scope) => isIdentityScope(scope) || this.mayHave(app, scope));
    const scopes = narrowScopes(allowed, params.get('scope'), 'the scope exceeds what was granted, or what the client may still have');
    return { resource, scopes: scopes.filter((scope) => resource.scopes.includes(scope)) };
  }

  /**
   * What a user is asked to give an application (the authorization and backchannel endpoints). RFC 8707 §2:
   * each `resource` an absolute URI of a registered resource; an admin-registered application may ask only
   * for its dependencies, a self-registered one for any (the user decides).
   */
  requestedResources(app: Application, asked: readonly string[], fail: Refuse): Resource[] {
    const resources: Resource[] = [];
    for (const identifier of new Set(asked)) {
      if (!isResourceIdentifier(identifier)) fail('invalid_target', 'resource must be an absolute URI without a fragment');
      const resource = this.resources.get(identifier);
      const allowed = resource && (app.registration === 'dynamic' || this.applications.hasDependency(app.clientId, identifier));
      if (!resource || !allowed) fail('invalid_target', 'the resource is unknown or not available to this client', resource ? 'resource is not a dependency of the client' : 'unknown resource');
      // A user may delegate a token resource or a brokered one (their upstream account); a vaulted secret is an
      // application's own credential, released only to it (autonomous grants, exchange, impersonation).
      if (resource!.credentialType === 'vaulted') fail('invalid_target', 'a vaulted resource is not delegated by a user');
      resources.push(resource!);
    }
    return resources;
  }

  /**
   * Each asked scope is an OIDC scope or a scope of a requested resource that the application may have.
   * Without `scope`, everything the application may have of those resources.
   */
  requestedScopes(app: Application, resources: readonly Resource[], scopeParam: string | undefined, fail: Refuse): string[] {
    const allowed = new Set(resources.flatMap((resource) => resource.scopes.filter((scope) => this.mayHave(app, scope))));
    if (scopeParam === undefined) return [...allowed];
    const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
    for (const scope of asked) {
      if (!isScopeToken(scope)) fail('invalid_scope', 'malformed scope');
      if (!isIdentityScope(scope) && !allowed.has(scope)) fail('invalid_scope', 'a requested scope is not available for the requested resources', `scope not allowed: ${scope.slice(0, 100)}`);
    }
    return asked;
  }
}
