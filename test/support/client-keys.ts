// A client's own key pair and the JWTs it signs with it: private_key_jwt client assertions
// (RFC 7523 §2.2) and jwt-bearer grants (§2.1), plus hand-crafted forgeries (alg none, HS256 keyed
// with the public key) that a real library would refuse to produce.
import { createHmac, randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type ClientAlg = 'ES256' | 'RS256';

export interface ClientKey {
  alg: ClientAlg;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as registered: kty and key members, kid, alg, use. */
  publicJwk: JWK;
}

export async function newClientKey(alg: ClientAlg = 'ES256', kid = `k-${randomUUID()}`): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

export const jwksOf = (...keys: ClientKey[]): { keys: JWK[] } => ({ keys: keys.map((key) => key.publicJwk) });

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The claims of a well-formed assertion for `clientId` addressed to `audience`; override any of them,
 * or delete one by setting it to undefined.
 */
export function assertionClaims(clientId: string, audience: string | string[], overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { iss: clientId, sub: clientId, aud: audience, jti: randomUUID(), iat: now, exp: now + 60, ...overrides };
  for (const name of Object.keys(claims)) if (claims[name] === undefined) delete claims[name];
  return claims as JWTPayload;
}

/** Signs claims exactly as given (no defaults added) with the client's private key. */
export async function signAssertion(key: ClientKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

/** A client assertion signed by the client's key: iss = sub = clientId, one aud, fresh jti, exp in 60 s. */
export async function clientAssertion(key: ClientKey, clientId: string, audience: string | string[], overrides: Record<string, unknown> = {}): Promise<string> {
  return signAssertion(key, assertionClaims(clientId, audience, overrides));
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned JWT (`alg: none`, RFC 7519 §6). */
export function unsignedAssertion(claims: JWTPayload, kid?: string): string {
  return `${segment({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${segment(claims)}.`;
}

/**
 * The algorithm-confusion forgery: HS256 with the verifier's *public* key as the HMAC secret, in the
 * form a naive verifier would use it (the PEM text, or the JWK's JSON).
 */
export async function hmacWithPublicKey(key: ClientKey, claims: JWTPayload, secretForm: 'pem' | 'jwk'): Promise<string> {
  const secret = secretForm === 'pem' ? await exportSPKI(key.publicKey) : JSON.stringify(key.publicJwk);
  const signingInput = `${segment({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${segment(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}
