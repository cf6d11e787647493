import { isResourceIdentifier, isScopeToken } from '../../../../shared/domain.js';
import type { Application, Applications } from '../../directory/applications.js';
import type { Resource, Resources } from '../../directory/resources.js';
import { InvalidScope, InvalidTarget } from '../../oauth/errors.js';
import type { AccessTokenRequest, Issuance, TokenResponse } from '../../tokens/issuance.js';
import type { SecretRelease } from '../../tokens/secret-release.js';
import type { Params } from '../../oauth/params.js';

export interface Target {
  resource: Resource;
  scopes: string[];
}

/**
 * The credential for a resolved target: a Latchkey access token, or, for a vaulted resource, its static
 * secret. The scope rules are the same for both (a static secret's scope is never narrowed, only checked).
 */
export function issueFor(target: Target, issuance: Issuance, release: SecretRelease, request: Omit<AccessTokenRequest, 'resource' | 'scopes'>): Promise<TokenResponse> {
  if (target.resource.credentialType === 'vaulted') {
    return release.release({ app: request.app, subject: request.subject, userId: request.userId, resource: target.resource, grantType: request.grantType, trustLevel: request.trustLevel, scopes: target.scopes,
      policyAction: request.policyAction, transport: request.transport, auditDetail: request.auditDetail, auditReason: request.auditReason, redeem: request.redeem });
  }
  return issuance.issueAccessToken({ ...request, resource: target.resource, scopes: target.scopes });
}

/**
 * What an autonomous request may have: one resource among the application's dependencies (RFC 8707),
 * and scopes within the application's allowed scopes ∩ the resource's scopes. No `scope` means all it may
 * have; asking for more is `invalid_scope` (RFC 6749 §5.2), never a silent narrowing.
 */
export function resolveAutonomousTarget(app: Application, params: Params, applications: Applications, resources: Resources): Target {
  const requested = params.all('resource');
  if (requested.length > 1) throw new InvalidTarget('ask for one resource per token');
  let identifier = requested[0];
  if (identifier === undefined) {
    // RFC 8707 §2: a default resource may be used when the client names none.
    const dependencies = applications.dependencies(app.clientId);
    if (dependencies.length !== 1) throw new InvalidTarget('the resource parameter is required');
    identifier = dependencies[0]!;
  }
  if (!isResourceIdentifier(identifier)) throw new InvalidTarget('resource must be an absolute URI without a fragment');
  const resource = resources.get(identifier);
  // One answer for unknown and not-allowed: the endpoint is not a directory of resources.
  if (!resource || !applications.hasDependency(app.clientId, identifier)) {
    throw new InvalidTarget('the resource is unknown or not available to this client', { reason: resource ? 'resource is not a dependency of the client' : 'unknown resource' });
  }
  // A vaulted resource's secret is released by the grant (tokens/secret-release.ts). A brokered one is a user's
  // upstream account, and an autonomous request has no user (issue 5 item 4: only through impersonation): the
  // server will not issue for this resource to this request, which RFC 8707 §2 calls `invalid_target`.
  if (resource.credentialType === 'brokered') {
    throw new InvalidTarget('a brokered resource is reached only for a user: use impersonation (a substitute-user token exchange) or user delegation', { reason: 'autonomous access to a brokered resource' });
  }

  const allowed = app.scopes === null ? resource.scopes : resource.scopes.filter((scope) => app.scopes!.includes(scope));
  const scopeParam = params.get('scope');
  if (scopeParam === undefined) return { resource, scopes: allowed };
  const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
  for (const scope of asked) {
    if (!isScopeToken(scope)) throw new InvalidScope('malformed scope');
    if (!allowed.includes(scope)) throw new InvalidScope('a requested scope is not allowed', { reason: `scope not allowed: ${scope}` });
  }
  return { resource, scopes: asked };
}
