import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of randomness, base64url: client secrets, API keys, admin tokens. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

/** Opaque identifiers: a readable prefix and 128 random bits. */
export const newId = (prefix: string): string => `${prefix}_${randomBytes(16).toString('base64url')}`;

/** Secrets at rest are SHA-256 hashes only (DESIGN.md §5): a 256-bit random value needs no slow KDF. */
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(presented: string, storedHash: Uint8Array): boolean {
  const presentedHash = hashSecret(presented);
  return storedHash.length === presentedHash.length && timingSafeEqual(presentedHash, storedHash);
}
