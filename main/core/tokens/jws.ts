import { sign, type KeyObject } from 'node:crypto';

export type JwsAlgorithm = 'ES256' | 'RS256';

export interface JwsHeader {
  alg: JwsAlgorithm;
  typ?: string;
  kid: string;
}

/**
 * Signs a JWS in compact serialization (RFC 7515 §7.1) synchronously with node:crypto. This is the
 * token endpoint's hot path: a KeyObject signs in about half the CPU time of WebCrypto (which jose
 * uses), and without a hop through the thread pool. Only signing lives here; every verification of a
 * JWT goes through jose.
 */
export function signCompactJws(header: JwsHeader, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // RFC 7518 §3.4: an ECDSA signature is R || S, 32 bytes each for P-256, not DER.
  const signature = header.alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
