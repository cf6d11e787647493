import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { createPrivateKey, createPublicKey, randomBytes, type JsonWebKey, type KeyObject, type webcrypto } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import type { Vault } from '../vault/vault.js';

type CryptoKey = webcrypto.CryptoKey;

export type KeyPurpose = 'access_token' | 'id_token';

/** ES256 signs access tokens (RFC 9068); RS256 signs ID tokens, OIDC's default. */
const ALG: Record<KeyPurpose, 'ES256' | 'RS256'> = { access_token: 'ES256', id_token: 'RS256' };

/**
 * Nothing signs an ID token yet at start, and an RSA key is slow to make: a data dir's first one is made
 * after `load()` returns, off the start's critical path.
 */
const MADE_AFTER_LOAD: ReadonlySet<KeyPurpose> = new Set(['id_token']);

export interface Signer {
  kid: string;
  alg: 'ES256' | 'RS256';
  /** A node:crypto key: it signs synchronously (tokens/jws.ts), and jose accepts it too. */
  key: KeyObject;
}

export interface Verifier {
  alg: string;
  key: CryptoKey | KeyObject;
}

interface KeyRow {
  kid: string;
  alg: string;
  purpose: KeyPurpose;
  public_jwk: string;
  vault_item: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

/** Published keys only carry public members; anything else is dropped, whatever the key type. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;
function publicOnly(jwk: JWK): JWK {
  const out: JWK = {};
  for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) out[member] = jwk[member];
  return out;
}

export class SigningKeyUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyUnavailable';
  }
}

/**
 * The broker's signing keys. Private keys are vault items; the active key per purpose is unsealed once
 * and kept in memory. Retired keys stay in JWKS until the tokens they signed have expired.
 */
export class SigningKeys {
  private readonly active = new Map<KeyPurpose, Signer>();
  private readonly verifiers = new Map<string, Verifier>();
  private jwksCache: { value: { keys: JWK[] }; until: number } | undefined;
  /** First keys `load()` left to make after it returned; see `whenMade()`. */
  private making: Promise<void> | undefined;
  private readonly publishedKey;

  constructor(private readonly db: Db, private readonly vault: Vault, private readonly clock: Clock) {
    this.publishedKey = db.prepare('SELECT alg, public_jwk FROM signing_keys WHERE kid = ? AND (retired_at IS NULL OR publish_until > ?)');
  }

  /**
   * Unseals the active keys, generating a purpose's first key only when it has never had one. A key that
   * exists but does not unseal is an error: Latchkey refuses to issue rather than regenerate silently.
   * A first ID-token key is made in the background (RSA-2048 takes 50–500 ms, longer than the rest of a
   * start): until `whenMade()` resolves there is no ID-token signer, so nothing can sign with it.
   */
  async load(): Promise<void> {
    // A key still being made must be in the table before the table is read again.
    await this.whenMade().catch(() => {});
    this.active.clear();
    const later: KeyPurpose[] = [];
    for (const purpose of Object.keys(ALG) as KeyPurpose[]) {
      const row = this.db.prepare('SELECT * FROM signing_keys WHERE purpose = ? AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1').get(purpose) as KeyRow | undefined;
      if (row) {
        this.active.set(purpose, await this.unseal(row));
      } else {
        const any = this.db.prepare('SELECT 1 FROM signing_keys WHERE purpose = ? LIMIT 1').get(purpose);
        if (any) throw new SigningKeyUnavailable(`no active ${purpose} signing key; rotate keys to make one`);
        if (MADE_AFTER_LOAD.has(purpose)) later.push(purpose);
        else this.active.set(purpose, await this.generate(purpose));
      }
    }
    await this.loadVerifiers();
    if (later.length > 0) this.making = this.makeFirstKeys(later);
  }

  /**
   * Resolves once the keys `load()` left to make exist (at once when there are none); rejects with why
   * one could not be made. Such a key stays missing: nothing signs for its purpose, and the next start
   * tries again.
   */
  whenMade(): Promise<void> {
    return this.making ?? Promise.resolve();
  }

  /** Forgets the private keys (the vault was locked): nothing signs until `load()` runs again. Public keys stay. */
  unload(): void {
    this.active.clear();
  }

  get ready(): boolean {
    return this.active.has('access_token');
  }

  signer(purpose: KeyPurpose): Signer {
    const signer = this.active.get(purpose);
    if (!signer) throw new SigningKeyUnavailable('signing keys are not loaded (is the vault locked?)');
    return signer;
  }

  /** The public key for a kid, for verifying Latchkey's own tokens; null for a kid it never published. */
  verifier(kid: string): Verifier | null {
    const loaded = this.verifiers.get(kid);
    if (loaded) return loaded;
    // Public keys need no vault: while it is locked, Latchkey still knows its own tokens, so a
    // revocation is stored instead of being answered like one for a token it never issued.
    const row = this.publishedKey.get(kid, this.clock.now()) as Pick<KeyRow, 'alg' | 'public_jwk'> | undefined;
    if (!row) return null;
    const verifier = { alg: row.alg, key: createPublicKey({ key: JSON.parse(row.public_jwk) as JsonWebKey, format: 'jwk' }) };
    this.verifiers.set(kid, verifier);
    return verifier;
  }

  /** JWKS (RFC 7517): public members, kid, alg, use; cached until the next retired key drops out. */
  jwks(): { keys: JWK[] } {
    const now = this.clock.now();
    if (this.jwksCache && now < this.jwksCache.until) return this.jwksCache.value;
    const rows = this.publishedRows(now);
    const keys = rows.map((row) => ({ ...publicOnly(JSON.parse(row.public_jwk) as JWK), kid: row.kid, alg: row.alg, use: 'sig' }));
    const nextExpiry = Math.min(...rows.map((row) => row.publish_until ?? Infinity), now + 60_000);
    this.jwksCache = { value: { keys }, until: nextExpiry };
    return this.jwksCache.value;
  }

  /**
   * A new key signs from now on; the old one is published until `keepPublishedMs` from now, which the
   * caller sets to the longest lifetime of anything it signed.
   */
  async rotate(purpose: KeyPurpose, keepPublishedMs: number): Promise<{ kid: string; retired: string | null }> {
    // Else a first key landing after this one would leave two active keys for the purpose.
    await this.whenMade().catch(() => {});
    const previous = this.active.get(purpose);
    const now = this.clock.now();
    const next = await this.generate(purpose, () => {
      if (previous) {
        this.db.prepare('UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE kid = ?').run(now, now + keepPublishedMs, previous.kid);
      }
    });
    this.active.set(purpose, next);
    this.jwksCache = undefined;
    await this.loadVerifiers();
    return { kid: next.kid, retired: previous?.kid ?? null };
  }

  list(): Array<{ kid: string; alg: string; purpose: KeyPurpose; created_at: number; retired_at: number | null; publish_until: number | null }> {
    return (this.db.prepare('SELECT kid, alg, purpose, created_at, retired_at, publish_until FROM signing_keys ORDER BY created_at').all() as KeyRow[]);
  }

  private publishedRows(now: number): KeyRow[] {
    return this.db.prepare('SELECT * FROM signing_keys WHERE retired_at IS NULL OR publish_until > ? ORDER BY created_at DESC').all(now) as KeyRow[];
  }

  private async loadVerifiers(): Promise<void> {
    this.verifiers.clear();
    for (const row of this.publishedRows(this.clock.now())) {
      const key = (await importJWK(JSON.parse(row.public_jwk) as JWK, row.alg)) as CryptoKey;
      this.verifiers.set(row.kid, { alg: row.alg, key });
    }
  }

  private async makeFirstKeys(purposes: KeyPurpose[]): Promise<void> {
    for (const purpose of purposes) this.active.set(purpose, await this.generate(purpose));
    await this.loadVerifiers();
  }

  private async unseal(row: KeyRow): Promise<Signer> {
    let sealed: Buffer | null;
    try {
      sealed = this.vault.get(row.vault_item);
    } catch (error) {
      throw new SigningKeyUnavailable(`signing key ${row.kid} cannot be unsealed: ${(error as Error).message}`);
    }
    if (!sealed) throw new SigningKeyUnavailable(`signing key ${row.kid} is missing from the vault`);
    if (row.alg !== ALG[row.purpose]) throw new SigningKeyUnavailable(`signing key ${row.kid} is ${row.alg}, not ${ALG[row.purpose]} as ${row.purpose} keys are`);
    return { kid: row.kid, alg: ALG[row.purpose], key: createPrivateKey({ key: JSON.parse(sealed.toString('utf8')) as JsonWebKey, format: 'jwk' }) };
  }

  private async generate(purpose: KeyPurpose, alsoInTransaction?: () => void): Promise<Signer> {
    const alg = ALG[purpose];
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const kid = randomBytes(12).toString('base64url');
    const privateJwk = await exportJWK(privateKey);
    const publicJwk = publicOnly(await exportJWK(publicKey));
    const vaultItem = `signing-key:${kid}`;
    this.db.transaction(() => {
      this.vault.put(vaultItem, JSON.stringify(privateJwk));
      this.db.prepare(
        'INSERT INTO signing_keys (kid, alg, purpose, public_jwk, vault_item, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(kid, alg, purpose, JSON.stringify(publicJwk), vaultItem, this.clock.now());
      alsoInTransaction?.();
    }).immediate();
    this.jwksCache = undefined;
    return { kid, alg, key: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }) };
  }
}
