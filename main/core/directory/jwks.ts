import { DirectoryError } from './errors.js';

/** Asymmetric signature algorithms a client may sign assertions with; never `none`, never HMAC. */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * A client's registered JWKS: public asymmetric keys only. A private member or a symmetric key is
 * refused rather than stripped: somebody pasted the wrong file.
 */
export function parseJwks(jwks: { keys: Record<string, unknown>[] }): { keys: Record<string, unknown>[] } {
  const keys = jwks.keys.map((key, index) => {
    if (typeof key.kty !== 'string' || !['EC', 'RSA', 'OKP'].includes(key.kty)) throw new DirectoryError(`jwks.keys[${index}]: only EC, RSA and OKP public keys`);
    if (PRIVATE_MEMBERS.some((member) => member in key)) throw new DirectoryError(`jwks.keys[${index}]: contains private key material; register the public key only`);
    if (key.alg !== undefined && !(ASSERTION_ALGORITHMS as readonly unknown[]).includes(key.alg)) throw new DirectoryError(`jwks.keys[${index}]: algorithm ${String(key.alg)} is not allowed`);
    if (key.use !== undefined && key.use !== 'sig') throw new DirectoryError(`jwks.keys[${index}]: use must be sig`);
    return key;
  });
  return { keys };
}
