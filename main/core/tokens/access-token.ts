import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import { signCompactJws } from './jws.js';
import type { SigningKeys } from './signing-keys.js';
import type { ActClaim } from '../oauth/claims.js';


/** Claims Latchkey puts in an access token besides iss, exp, iat and jti (RFC 9068 §2.2, DESIGN.md §3). */
export interface AccessTokenClaims {
  sub: string;
  aud: string;
  client_id: string;
  scope?: string | undefined;
  grant_type: string;
  identity_type?: string | undefined;
  sub_type?: string | undefined;
  trust_level?: string | undefined;
  act?: ActClaim | undefined;
  delegation_depth?: number | undefined;
}

export interface MintedToken {
  token: string;
  jti: string;
  iat: number;
  exp: number;
}

export type AccessTokenPayload = JWTPayload & AccessTokenClaims & { jti: string; exp: number; iat: number };

/** RFC 9068 §2.1: `typ: at+jwt`, signed with the active ES256 key. */
export function mintAccessToken(keys: SigningKeys, issuer: string, claims: AccessTokenClaims, nowSeconds: number, lifetimeSeconds: number): MintedToken {
  const signer = keys.signer('access_token');
  // 122 random bits; randomUUID draws from a pooled entropy buffer, not a syscall per token.
  const jti = randomUUID();
  const exp = nowSeconds + lifetimeSeconds;
  const payload: Record<string, unknown> = { iss: issuer };
  for (const [name, value] of Object.entries(claims)) if (value !== undefined) payload[name] = value;
  Object.assign(payload, { iat: nowSeconds, exp, jti });
  const token = signCompactJws({ alg: signer.alg, typ: 'at+jwt', kid: signer.kid }, payload, signer.key);
  return { token, jti, iat: nowSeconds, exp };
}

/**
 * Verifies a token Latchkey issued: its own keys only (looked up by kid, never from the token's header),
 * ES256 only, `typ: at+jwt`, this issuer, not expired. Returns null for anything else.
 */
export async function verifyAccessToken(keys: SigningKeys, issuer: string, token: string, nowSeconds: number): Promise<AccessTokenPayload | null> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const verifier = header.kid ? keys.verifier(header.kid) : null;
        if (!verifier || verifier.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
        return verifier.key;
      },
      { issuer, typ: 'at+jwt', algorithms: ['ES256'], currentDate: new Date(nowSeconds * 1000), requiredClaims: ['jti', 'exp', 'iat', 'sub', 'aud', 'client_id'] },
    );
    return payload as AccessTokenPayload;
  } catch {
    return null;
  }
}
