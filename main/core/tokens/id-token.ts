import { createHash } from 'node:crypto';
import { signCompactJws } from './jws.js';
import type { IdTokenAlg } from '../../../shared/domain.js';
import type { SigningKeys } from './signing-keys.js';

/** How long ID tokens live; retired ID-token keys stay published at least this long. */
export const ID_TOKEN_LIFETIME_SECONDS = 3600;

export interface IdTokenClaims {
  sub: string;
  clientId: string;
  /** Epoch seconds of the user's sign-in (OIDC Core §2). */
  authTime: number;
  nonce: string | null;
  /** The client's `id_token_signed_response_alg`. */
  alg: IdTokenAlg;
}

/**
 * An OIDC ID token (OIDC Core §2, §3.1.3.6): RS256 with the broker's ID-token key, or ES256 with its
 * ES256 key when the client registered that (`id_token_signed_response_alg`); `aud` and `azp` the
 * client, `nonce` as the authorization request carried it, `auth_time`, and `at_hash` for the access
 * token it travels with. User claims (name, email) are served by the userinfo endpoint, not put here.
 */
export function mintIdToken(keys: SigningKeys, issuer: string, claims: IdTokenClaims, accessToken: string, nowSeconds: number): string {
  // The ES256 key also signs access tokens; they cannot pass for one another: an access token says
  // `typ: at+jwt` (RFC 9068 §4 has resource servers check it) and its `aud` is a resource, not a client.
  const signer = keys.signer(claims.alg === 'ES256' ? 'access_token' : 'id_token');
  const payload: Record<string, unknown> = {
    iss: issuer,
    sub: claims.sub,
    aud: claims.clientId,
    azp: claims.clientId,
    iat: nowSeconds,
    exp: nowSeconds + ID_TOKEN_LIFETIME_SECONDS,
    auth_time: claims.authTime,
    at_hash: leftHalfHash(accessToken),
  };
  if (claims.nonce !== null) payload.nonce = claims.nonce;
  return signCompactJws({ alg: signer.alg, typ: 'JWT', kid: signer.kid }, payload, signer.key);
}

/** OIDC Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token (RS256 and ES256 both hash with SHA-256). */
function leftHalfHash(token: string): string {
  const digest = createHash('sha256').update(token, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
