import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { newId } from '../store/credentials.js';
import type { Db } from '../store/database.js';
import type { KeyVault, VaultMeta } from './key-vault.js';
import { VaultError } from './key-vault.js';

const FORMAT = 1;
const CHECK_ITEM = '\u0000vault-check';

/** Item id and key id are bound as associated data: a sealed blob moved to another row does not open. */
const aad = (keyId: string, itemId: string): Buffer => Buffer.from(`latchkey-vault:v${FORMAT}:${keyId}:${itemId}`);

function seal(key: Buffer, keyId: string, itemId: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(keyId, itemId));
  return Buffer.concat([Buffer.of(FORMAT), nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, keyId: string, itemId: string, sealed: Buffer): Buffer {
  if (sealed.length < 1 + 12 + 16 || sealed[0] !== FORMAT) throw new VaultError('corrupt', `vault item ${itemId} is malformed`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
    decipher.setAAD(aad(keyId, itemId));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(13, sealed.length - 16)), decipher.final()]);
  } catch {
    throw new VaultError('corrupt', `vault item ${itemId} does not open with the vault key`);
  }
}

export type VaultState =
  | { state: 'unlocked'; backend: 'keychain' | 'passphrase' }
  | { state: 'locked'; backend: 'keychain' | 'passphrase' | null; reason: string; code: VaultError['code'] };

/**
 * Envelope encryption of secrets in SQLite: one random master key, held by a KeyVault backend; each
 * item sealed with AES-256-GCM under it. While locked, nothing can be read or written.
 */
export class Vault {
  private key: Buffer | undefined;
  private meta: VaultMeta | undefined;
  private lockReason: { code: VaultError['code']; reason: string } = { code: 'locked', reason: 'the vault is locked' };
  private readonly selectItem;
  private readonly upsertItem;
  private readonly deleteItem;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.meta = db.prepare('SELECT vault_id, backend, key_id, kdf, wrapped_key, check_value FROM vault_meta WHERE id = 1').get() as VaultMeta | undefined;
    this.selectItem = db.prepare('SELECT key_id, sealed FROM vault_items WHERE id = ?');
    this.upsertItem = db.prepare(
      `INSERT INTO vault_items (id, key_id, sealed, created_at, updated_at) VALUES (@id, @key_id, @sealed, @now, @now)
       ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at`,
    );
    this.deleteItem = db.prepare('DELETE FROM vault_items WHERE id = ?');
  }

  /** The backend this vault was created with, or null for a vault not created yet. */
  get backend(): 'keychain' | 'passphrase' | null {
    return this.meta?.backend ?? null;
  }

  get initialized(): boolean {
    return this.meta !== undefined;
  }

  get status(): VaultState {
    if (this.key && this.meta) return { state: 'unlocked', backend: this.meta.backend };
    return { state: 'locked', backend: this.backend, ...this.lockReason };
  }

  /** Leaves the vault locked, saying why and what the user can do. */
  markLocked(code: VaultError['code'], reason: string): void {
    this.key?.fill(0);
    this.key = undefined;
    this.lockReason = { code, reason };
  }

  /**
   * Opens the vault with a backend, creating it on first use. An existing vault only opens with the
   * backend it was created with and its own key: never a new key over existing items.
   */
  async unlock(backend: KeyVault): Promise<void> {
    if (this.meta) {
      if (this.meta.backend !== backend.backend) {
        throw new VaultError('backend_mismatch', `this vault is protected by the ${this.meta.backend}, not a ${backend.backend}`);
      }
      const key = await backend.load(this.meta);
      // The check value tells a wrong key from a corrupt item, before anything is trusted.
      const check = open(key, this.meta.key_id, CHECK_ITEM, this.meta.check_value);
      if (!check.equals(Buffer.from(this.meta.vault_id))) throw new VaultError('corrupt', 'the vault check value does not match');
      this.key = key;
      return;
    }
    const vaultId = newId('vault');
    const keyId = newId('key');
    const key = randomBytes(32);
    const stored = await backend.store(vaultId, key);
    const meta: VaultMeta = {
      vault_id: vaultId,
      backend: backend.backend,
      key_id: keyId,
      kdf: stored.kdf,
      wrapped_key: stored.wrappedKey,
      check_value: seal(key, keyId, CHECK_ITEM, Buffer.from(vaultId)),
    };
    this.db.prepare(
      `INSERT INTO vault_meta (id, vault_id, backend, key_id, kdf, wrapped_key, check_value, created_at)
       VALUES (1, @vault_id, @backend, @key_id, @kdf, @wrapped_key, @check_value, @now)`,
    ).run({ ...meta, now: this.clock.now() });
    this.meta = meta;
    this.key = key;
  }

  lock(): void {
    this.markLocked('locked', 'the vault was locked');
  }

  private unlocked(): { key: Buffer; meta: VaultMeta } {
    if (!this.key || !this.meta) throw new VaultError('locked', this.lockReason.reason);
    return { key: this.key, meta: this.meta };
  }

  /** Seals and stores an item, replacing any previous value atomically. Call inside a transaction when it goes with other writes. */
  put(itemId: string, plaintext: Buffer | string): void {
    const { key, meta } = this.unlocked();
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    this.upsertItem.run({ id: itemId, key_id: meta.key_id, sealed: seal(key, meta.key_id, itemId, data), now: this.clock.now() });
  }

  /** The plaintext of an item, or null when there is none. */
  get(itemId: string): Buffer | null {
    const { key } = this.unlocked();
    const row = this.selectItem.get(itemId) as { key_id: string; sealed: Buffer } | undefined;
    if (!row) return null;
    return open(key, row.key_id, itemId, row.sealed);
  }

  delete(itemId: string): void {
    this.deleteItem.run(itemId);
  }
}
