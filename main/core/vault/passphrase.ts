import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { KeyVault, VaultMeta } from './key-vault.js';
import { VaultError } from './key-vault.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's recommendation for scrypt: N=2^17, r=8, p=1 (128 MiB, a few hundred ms). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

interface KdfRecord extends ScryptParams {
  alg: 'scrypt';
  salt: string;
}

/** scrypt on the thread pool, never the event loop; NFC so the same typed text gives the same key everywhere. */
export function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * The master key wrapped (AES-256-GCM) with a key derived from the user's passphrase by scrypt. The
 * passphrase itself is never stored; a wrong one fails the GCM tag check.
 */
export class PassphraseKeyVault implements KeyVault {
  readonly backend = 'passphrase' as const;

  constructor(private readonly passphrase: string, private readonly params: ScryptParams = DEFAULT_SCRYPT) {
    if (passphrase.length === 0) throw new VaultError('wrong_passphrase', 'the vault passphrase is empty');
  }

  async store(vaultId: string, masterKey: Buffer): Promise<{ kdf: string; wrappedKey: Buffer }> {
    const salt = randomBytes(16);
    const kek = await deriveKey(this.passphrase, salt, this.params);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, nonce);
    cipher.setAAD(Buffer.from(`latchkey-vault-kek:${vaultId}`));
    const wrappedKey = Buffer.concat([nonce, cipher.update(masterKey), cipher.final(), cipher.getAuthTag()]);
    const kdf: KdfRecord = { alg: 'scrypt', salt: salt.toString('base64'), ...this.params };
    return { kdf: JSON.stringify(kdf), wrappedKey };
  }

  async load(meta: VaultMeta): Promise<Buffer> {
    if (!meta.kdf || !meta.wrapped_key) throw new VaultError('corrupt', 'the vault has no wrapped key');
    const kdf = JSON.parse(meta.kdf) as KdfRecord;
    const kek = await deriveKey(this.passphrase, Buffer.from(kdf.salt, 'base64'), { N: kdf.N, r: kdf.r, p: kdf.p });
    const wrapped = meta.wrapped_key;
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
      decipher.setAAD(Buffer.from(`latchkey-vault-kek:${meta.vault_id}`));
      decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
      return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
    } catch {
      throw new VaultError('wrong_passphrase', 'the vault passphrase is wrong');
    }
  }
}
