import { IDENTITY_SCOPES } from '../../../shared/domain.js';
import type { Resource, Resources } from '../directory/resources.js';

/** What a user's access token is for: a resource, or Latchkey's own userinfo endpoint (audience = the issuer). */
export type UserAudience = Pick<Resource, 'identifier' | 'tokenLifetime'> & { scopes: readonly string[] };

/** A token for the userinfo endpoint lives as long as a default resource token. */
const USERINFO_TOKEN_LIFETIME = 600;

export const isIdentityScope = (scope: string): boolean => (IDENTITY_SCOPES as readonly string[]).includes(scope);

/**
 * The audience of a user's access token. Without a resource it is the issuer, and the token is good only
 * at the userinfo endpoint (issue 3 item 3).
 */
export function userAudience(identifier: string | null, issuer: string, resources: Resources): UserAudience | null {
  if (identifier === null) return { identifier: issuer, tokenLifetime: USERINFO_TOKEN_LIFETIME, scopes: IDENTITY_SCOPES.filter((scope) => scope !== 'offline_access') };
  const resource = resources.get(identifier);
  return resource ? { identifier: resource.identifier, tokenLifetime: resource.tokenLifetime, scopes: resource.scopes } : null;
}

/** The granted scopes that mean something to this audience: a token for one resource carries only its scopes. */
export function scopesFor(audience: UserAudience, granted: readonly string[]): string[] {
  return granted.filter((scope) => audience.scopes.includes(scope));
}
