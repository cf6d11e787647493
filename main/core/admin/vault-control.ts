import type { VaultStatus } from '../../../shared/admin-api.js';
import type { AuditLog } from '../audit/audit-log.js';
import { DirectoryError } from '../directory/errors.js';
import type { Logger } from '../logger.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import type { KeyVault } from '../vault/key-vault.js';
import { VaultError } from '../vault/key-vault.js';
import { KeychainKeyVault } from '../vault/keychain.js';
import { PassphraseKeyVault, type ScryptParams } from '../vault/passphrase.js';
import type { Vault } from '../vault/vault.js';

/**
 * The vault and the signing keys that live in it, as the owner and the shells see them: opened at start,
 * unlocked (with the keychain, or a passphrase), locked ("Lock vault"), and a status that says what to do.
 * While the vault is locked or the keys cannot be loaded, nothing is issued (the kinds fail closed with 503).
 */
export class VaultControl {
  private keyProblem: string | null = null;

  constructor(
    private readonly vault: Vault,
    private readonly keys: SigningKeys,
    private readonly audit: AuditLog,
    private readonly log: Logger,
    private readonly options: { passphrase?: string | undefined; scrypt?: ScryptParams | undefined },
  ) {}

  /** At start: the backend the vault was made with (or, fresh, the keychain unless a passphrase was given). */
  async open(): Promise<void> {
    const backend = this.chooseBackend();
    if (backend) await this.unlock(backend);
  }

  /** Opens (or creates) the vault with a backend, then loads the signing keys. */
  async unlock(backend: KeyVault): Promise<void> {
    try {
      await this.vault.unlock(backend);
    } catch (error) {
      if (error instanceof VaultError) {
        // A failed attempt on an open vault (a mistyped passphrase) leaves it open: its keys are loaded.
        if (this.vault.status.state !== 'unlocked') this.vault.markLocked(error.code, error.message);
        this.audit.record({ event: 'vault.unlock_failed', decision: 'deny', reason: error.message });
        if (error.code === 'wrong_passphrase' || error.code === 'backend_mismatch') throw error;
        // The status's message says what happened and what to do; `serve` prints it once.
        this.log.warn(this.status().message ?? error.message);
        return;
      }
      throw error;
    }
    try {
      await this.keys.load();
      this.keyProblem = null;
    } catch (error) {
      this.keyProblem = (error as Error).message;
      this.log.error(`${this.keyProblem}; refusing to issue tokens`);
      return;
    }
    // A fresh data dir's ID-token key is still being made: a failure is reported, here and in the status.
    this.keys.whenMade().catch((error: unknown) => {
      this.keyProblem = `the ID-token signing key could not be made (${(error as Error).message}); refusing to issue ID tokens`;
      this.log.error(this.keyProblem);
    });
  }

  /**
   * Opens the vault with its passphrase, or, without one, a keychain vault (locked by the user) from its
   * keychain. A passphrase vault without a passphrase is the caller's mistake (DirectoryError, 400).
   */
  async unlockWith(passphrase: string | undefined): Promise<VaultStatus> {
    if (passphrase === undefined && this.vault.backend !== 'keychain') throw new DirectoryError('passphrase is required');
    await this.unlock(passphrase === undefined ? new KeychainKeyVault() : new PassphraseKeyVault(passphrase, this.options.scrypt));
    return this.status();
  }

  /**
   * "Lock vault": the master key and the private signing keys (vault items) leave memory, so everything that
   * needs the vault (tokens, vaulted secrets, new keys) fails closed with 503 until it is unlocked again.
   */
  lock(by: string): VaultStatus {
    this.vault.lock();
    this.keys.unload();
    this.audit.record({ event: 'vault.locked', decision: 'info', reason: `locked by ${by}` });
    return this.status();
  }

  status(): VaultStatus {
    const status = this.vault.status;
    if (status.state === 'unlocked') {
      return { state: 'unlocked', backend: status.backend, message: this.keyProblem };
    }
    return {
      state: this.vault.initialized ? 'locked' : 'uninitialized',
      backend: status.backend,
      message: `${status.reason}. ${unlockAdvice(status.backend)}`,
    };
  }

  private chooseBackend(): KeyVault | null {
    const passphrase = this.options.passphrase;
    if (this.vault.backend === 'passphrase' || (!this.vault.initialized && passphrase)) {
      if (passphrase) return new PassphraseKeyVault(passphrase, this.options.scrypt);
      this.vault.markLocked('locked', 'the vault is protected by a passphrase and none was given');
      this.log.warn(`${this.status().message}`);
      return null;
    }
    // An existing keychain vault, or a fresh one: creating its key writes it and reads it back, which is
    // the probe; a keychain that is not there leaves the vault uninitialized and locked, saying so.
    return new KeychainKeyVault();
  }
}

function unlockAdvice(backend: 'keychain' | 'passphrase' | null): string {
  if (backend === 'keychain') return 'Latchkey will not issue tokens until the vault is unlocked: unlock it from the app or with `latchkey vault unlock`; if the OS keychain holding its key is unreachable, unlock your login keyring, then restart Latchkey.';
  return 'Latchkey will not issue tokens until the vault is unlocked: run `latchkey vault unlock` (it asks for the passphrase), or start Latchkey with LATCHKEY_VAULT_PASSPHRASE set.';
}
