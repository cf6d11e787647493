import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.2: the S256 challenge is BASE64URL(SHA-256(verifier)), always 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Only S256: `plain` offers no protection against a leaked authorization request (OAuth 2.1 §4.1.1). */
export const CODE_CHALLENGE_METHODS = ['S256'] as const;

export const isWellFormedChallenge = (challenge: string): boolean => CHALLENGE.test(challenge);
export const isWellFormedVerifier = (verifier: string): boolean => VERIFIER.test(verifier);

/** RFC 7636 §4.6, compared in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
