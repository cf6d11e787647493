import { randomBytes } from 'node:crypto';
import { deletePassword, getPassword, setPassword } from '@napi-rs/keyring/keytar.js';
import type { KeyVault, VaultMeta } from './key-vault.js';
import { VaultError } from './key-vault.js';

const SERVICE = 'Latchkey';
const account = (vaultId: string): string => `vault-master-key:${vaultId}`;

/**
 * The master key in the OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service)
 * through the keytar API of @napi-rs/keyring. One entry per vault, so data dirs never share a key.
 */
export class KeychainKeyVault implements KeyVault {
  readonly backend = 'keychain' as const;

  async store(vaultId: string, masterKey: Buffer): Promise<{ kdf: null; wrappedKey: null }> {
    let readBack: string | null;
    try {
      // Read it back: a keychain that accepts writes but loses them must not be trusted with the only copy.
      // The write and its read-back are also the probe of a fresh vault (probeKeychain, without the extra
      // entry), so a first start makes two D-Bus round trips instead of four.
      readBack = await withinTime(setPassword(SERVICE, account(vaultId), masterKey.toString('base64')).then(() => getPassword(SERVICE, account(vaultId))));
    } catch (error) {
      // A VaultError leaves the broker up and locked, saying why, instead of failing its start.
      throw new VaultError('no_keychain', `no OS keychain is reachable (${describe(error)})`);
    }
    if (readBack !== masterKey.toString('base64')) {
      throw new VaultError('no_keychain', 'the OS keychain did not keep the vault key');
    }
    return { kdf: null, wrappedKey: null };
  }

  async load(meta: VaultMeta): Promise<Buffer> {
    let stored: string | null;
    try {
      stored = await withinTime(getPassword(SERVICE, account(meta.vault_id)));
    } catch (error) {
      throw new VaultError('no_keychain', `the OS keychain cannot be reached (${describe(error)})`);
    }
    if (stored === null) {
      // The keytar API answers null both for "no such entry" and for "no keychain at all".
      const probe = await probeKeychain();
      if (!probe.available) throw new VaultError('no_keychain', `the OS keychain cannot be reached (${probe.reason})`);
      throw new VaultError('key_missing', 'the vault key is missing from the OS keychain; Latchkey will not make a new one over existing secrets');
    }
    const key = Buffer.from(stored, 'base64');
    if (key.length !== 32) throw new VaultError('corrupt', 'the vault key in the OS keychain is malformed');
    return key;
  }
}

export interface KeychainProbe {
  available: boolean;
  reason?: string;
}

/**
 * Is there a keychain we can use? A read proves nothing (the keytar API answers null when there is no
 * keychain at all), so write a probe entry, read it back and delete it. Bounded in time, since a D-Bus
 * activation can hang.
 */
export async function probeKeychain(timeoutMs = 3000): Promise<KeychainProbe> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<KeychainProbe>((resolve) => {
    timer = setTimeout(() => resolve({ available: false, reason: 'the OS keychain did not answer in time' }), timeoutMs);
    timer.unref();
  });
  const value = randomBytes(16).toString('base64url');
  // An entry of its own: probes running at once (a second broker, the CLI) must not read each other's value.
  const probeAccount = `probe:${randomBytes(8).toString('hex')}`;
  const probe = setPassword(SERVICE, probeAccount, value)
    .then(() => getPassword(SERVICE, probeAccount))
    .then((readBack): KeychainProbe => {
      // Not awaited: the answer does not depend on it, and a first start waits on every round trip.
      void deletePassword(SERVICE, probeAccount).catch(() => false);
      return readBack === value ? { available: true } : { available: false, reason: 'the OS keychain did not keep a probe entry' };
    })
    .catch((error: unknown): KeychainProbe => ({ available: false, reason: describe(error) }));
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A D-Bus activation can hang: a keychain that does not answer in time counts as none. */
async function withinTime<T>(work: Promise<T>, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('the OS keychain did not answer in time')), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
}
