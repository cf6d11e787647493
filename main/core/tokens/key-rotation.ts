import type { AuditLog } from '../audit/audit-log.js';
import type { Resources } from '../directory/resources.js';
import { ID_TOKEN_LIFETIME_SECONDS } from './id-token.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * Rotates the access-token signing key, audited. The retired key stays in the JWKS as long as a token it
 * signed can live (the longest resource lifetime, or an ID token's), plus five minutes of clock skew.
 */
export async function rotateAccessTokenKey(keys: SigningKeys, resources: Resources, audit: AuditLog): Promise<{ kid: string; retired: string | null }> {
  const keepMs = (Math.max(resources.longestLifetimeSeconds(), ID_TOKEN_LIFETIME_SECONDS) + 300) * 1000;
  const result = await keys.rotate('access_token', keepMs);
  audit.record({ event: 'admin.keys_rotated', decision: 'info', reason: 'admin change', detail: { kid: result.kid, retired: result.retired } });
  return result;
}
