import { isResourceIdentifier, isScopeToken } from '../../../shared/domain.js';
import type { Application, Applications } from '../directory/applications.js';
import type { Resource, Resources } from '../directory/resources.js';
import { isIdentityScope } from './user-audience.js';

/** How a caller refuses: the authorization endpoint redirects, the backchannel endpoint answers JSON. */
export type Refuse = (error: string, description: string, reason?: string) => never;

/**
 * What a user is asked to give an application, checked the same way wherever the request comes from (the
 * authorization endpoint, backchannel authentication). RFC 8707 §2: each `resource` an absolute URI of a
 * registered resource. An admin-registered application may ask only for its dependencies; a dynamically
 * registered one for any resource (the user decides).
 */
export function resolveResources(app: Application, asked: readonly string[], directory: { applications: Applications; resources: Resources }, fail: Refuse): Resource[] {
  const resources: Resource[] = [];
  for (const identifier of new Set(asked)) {
    if (!isResourceIdentifier(identifier)) fail('invalid_target', 'resource must be an absolute URI without a fragment');
    const resource = directory.resources.get(identifier);
    const allowed = resource && (app.registration === 'dynamic' || directory.applications.hasDependency(app.clientId, identifier));
    if (!resource || !allowed) fail('invalid_target', 'the resource is unknown or not available to this client', resource ? 'resource is not a dependency of the client' : 'unknown resource');
    // A user may delegate a token resource or a brokered one (their upstream account); a vaulted secret is an
    // application's own credential, released only to it (autonomous grants, exchange, impersonation).
    if (resource!.credentialType === 'vaulted') fail('invalid_target', 'a vaulted resource is not delegated by a user');
    resources.push(resource!);
  }
  return resources;
}

/**
 * Scopes belong to resources: each asked scope is an OIDC scope or a scope of a requested resource that
 * the application may have. Without `scope`, everything the application may have of those resources.
 */
export function resolveScopes(app: Application, resources: readonly Resource[], scopeParam: string | undefined, fail: Refuse): string[] {
  const allowed = new Set(resources.flatMap((resource) => resource.scopes.filter((scope) => app.registration === 'dynamic' || app.scopes === null || app.scopes.includes(scope))));
  if (scopeParam === undefined) return [...allowed];
  const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
  for (const scope of asked) {
    if (!isScopeToken(scope)) fail('invalid_scope', 'malformed scope');
    if (!isIdentityScope(scope) && !allowed.has(scope)) fail('invalid_scope', 'a requested scope is not available for the requested resources', `scope not allowed: ${scope.slice(0, 100)}`);
  }
  return asked;
}
