/**
 * The KeyVault port: something that holds the vault's master key. The keychain backend keeps it in the
 * OS keychain; the passphrase backend keeps it wrapped with a key derived from a passphrase. Neither
 * ever falls back to plaintext or to an unprotected key (DESIGN.md §5).
 */
export interface VaultMeta {
  vault_id: string;
  backend: 'keychain' | 'passphrase';
  key_id: string;
  kdf: string | null;
  wrapped_key: Buffer | null;
  check_value: Buffer;
}

export interface KeyVault {
  readonly backend: 'keychain' | 'passphrase';
  /** Keeps a freshly generated master key; returns what vault_meta must remember to get it back. */
  store(vaultId: string, masterKey: Buffer): Promise<{ kdf: string | null; wrappedKey: Buffer | null }>;
  /** Returns the master key of an existing vault, or throws a VaultError. */
  load(meta: VaultMeta): Promise<Buffer>;
}

export type VaultErrorCode = 'no_keychain' | 'key_missing' | 'wrong_passphrase' | 'backend_mismatch' | 'corrupt' | 'locked';

export class VaultError extends Error {
  constructor(readonly code: VaultErrorCode, message: string) {
    super(message);
    this.name = 'VaultError';
  }
}
