import type { Db } from '../store/database.js';
import { VaultError } from '../vault/key-vault.js';
import type { Vault } from '../vault/vault.js';
import { DirectoryError } from './errors.js';

/** The vault item that holds a vaulted resource's secret; the item id is bound into its seal (AAD). */
export const resourceSecretItem = (identifier: string): string => `resource-secret:${identifier}`;

/**
 * The static secrets of vaulted resources (issue 5 item 3), as vault items. Written only (create, replace)
 * through the admin API; read only when the credential issuer releases it (tokens/vaulted-secret-kind.ts). When it was
 * set is the vault item's `updated_at`: no column of its own, so no migration.
 */
export class ResourceSecrets {
  private readonly setAt;

  constructor(db: Db, private readonly vault: Vault) {
    this.setAt = db.prepare('SELECT updated_at FROM vault_items WHERE id = ?');
  }

  /** When the secret was last set, or null when there is none. Needs no unlocked vault. */
  setAtOf(identifier: string): number | null {
    const row = this.setAt.get(resourceSecretItem(identifier)) as { updated_at: number } | undefined;
    return row?.updated_at ?? null;
  }

  /** Refuses before anything is written when the vault cannot seal: nothing half-created. */
  requireUnlocked(): void {
    const status = this.vault.status;
    if (status.state !== 'unlocked') {
      throw new DirectoryError(`the vault is locked (${status.reason}): unlock it (latchkey vault unlock) before storing a secret; nothing was saved`, 409);
    }
  }

  /** Seals the secret, replacing any previous one (an upsert: atomic in the caller's transaction). */
  put(identifier: string, secret: string): void {
    this.requireUnlocked();
    try {
      this.vault.put(resourceSecretItem(identifier), secret);
    } catch (error) {
      if (error instanceof VaultError) throw new DirectoryError(`the secret could not be sealed (${error.code}); nothing was saved`, 409);
      throw error;
    }
  }

  /** The plaintext, for release only. Throws VaultError when the vault is locked or the item does not open. */
  reveal(identifier: string): string | null {
    return this.vault.get(resourceSecretItem(identifier))?.toString('utf8') ?? null;
  }
}
