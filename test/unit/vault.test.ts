// The vault: envelope encryption of items (AES-256-GCM, item id and key id bound as associated data)
// and the passphrase backend (scrypt), down to the broker that starts locked without its passphrase.
import Database from 'better-sqlite3';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../main/core/broker.js';
import type { Clock } from '../../main/core/clock.js';
import { silentLogger } from '../../main/core/logger.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import { VaultError, type KeyVault, type VaultMeta } from '../../main/core/vault/key-vault.js';
import { DEFAULT_SCRYPT, PassphraseKeyVault } from '../../main/core/vault/passphrase.js';
import { Vault } from '../../main/core/vault/vault.js';
import { postForm, registerService, removeDataDir, startBroker, TEST_PASSPHRASE, TEST_SCRYPT, type Service, type TestBroker } from '../support/broker.js';

const clock: Clock = { now: () => Date.UTC(2025, 0, 1) };

/** The KeyVault port held in memory: a real backend, except that the test can see the master key. */
class MemoryKeyVault implements KeyVault {
  readonly backend = 'keychain' as const;
  readonly keys = new Map<string, Buffer>();

  async store(vaultId: string, masterKey: Buffer): Promise<{ kdf: null; wrappedKey: null }> {
    this.keys.set(vaultId, Buffer.from(masterKey));
    return { kdf: null, wrappedKey: null };
  }

  async load(meta: VaultMeta): Promise<Buffer> {
    const key = this.keys.get(meta.vault_id);
    if (!key) throw new VaultError('key_missing', 'no such key');
    return Buffer.from(key);
  }
}

async function rejection(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error('expected a VaultError');
}

function syncVaultError(work: () => unknown): VaultError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error('expected a VaultError');
}

describe('vault', () => {
  let dir: string;
  let file: string;
  let db: Db;
  const raws: Database.Database[] = [];
  const raw = (): Database.Database => {
    const connection = new Database(file);
    raws.push(connection);
    return connection;
  };
  const meta = (): VaultMeta & { created_at: number } => db.prepare('SELECT * FROM vault_meta WHERE id = 1').get() as VaultMeta & { created_at: number };
  const sealedOf = (id: string): Buffer => (db.prepare('SELECT sealed FROM vault_items WHERE id = ?').get(id) as { sealed: Buffer }).sealed;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-vault-'));
    file = join(dir, 'latchkey.db');
    db = openDatabase(file);
  });
  afterEach(() => {
    for (const connection of raws.splice(0)) connection.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('envelope encryption', () => {
    let backend: MemoryKeyVault;
    let vault: Vault;
    let masterKey: Buffer;

    beforeEach(async () => {
      backend = new MemoryKeyVault();
      vault = new Vault(db, clock);
      await vault.unlock(backend);
      masterKey = backend.keys.get(meta().vault_id)!;
    });

    it('gives back what was put in, and null for an item that was never stored', () => {
      vault.put('upstream:github', 'gho_refresh_token_value');
      vault.put('binary', Buffer.from([0, 1, 2, 255]));
      expect(vault.get('upstream:github')?.toString('utf8')).toBe('gho_refresh_token_value');
      expect(vault.get('binary')).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(vault.get('nothing-here')).toBeNull();
    });

    it('seals with AES-256-GCM under the master key, with key id and item id as associated data', () => {
      const plaintext = 'a secret that must never be stored in the clear';
      vault.put('item-1', plaintext);
      const sealed = sealedOf('item-1');
      expect(sealed.includes(Buffer.from(plaintext))).toBe(false);
      // format byte, 96-bit nonce, ciphertext as long as the plaintext, 128-bit tag
      expect(sealed[0]).toBe(1);
      expect(sealed.length).toBe(1 + 12 + Buffer.byteLength(plaintext) + 16);

      const { key_id: keyId } = meta();
      const openWith = (aad: string): string => {
        const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.subarray(1, 13));
        decipher.setAAD(Buffer.from(aad));
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        return Buffer.concat([decipher.update(sealed.subarray(13, sealed.length - 16)), decipher.final()]).toString('utf8');
      };
      expect(openWith(`latchkey-vault:v1:${keyId}:item-1`)).toBe(plaintext);
      expect(() => openWith(`latchkey-vault:v1:${keyId}:item-2`)).toThrow();
      expect(() => openWith(`latchkey-vault:v1:key_other:item-1`)).toThrow();
    });

    it('uses a fresh nonce each time: the same value sealed twice differs', () => {
      vault.put('a', 'same');
      vault.put('b', 'same');
      const first = sealedOf('a');
      vault.put('a', 'same');
      expect(sealedOf('a').equals(first)).toBe(false);
      expect(sealedOf('a').subarray(1, 13).equals(sealedOf('b').subarray(1, 13))).toBe(false);
    });

    it('a sealed blob moved to another item id does not open', () => {
      vault.put('victim', 'the real secret');
      vault.put('attacker-visible', 'harmless');
      raw().prepare('UPDATE vault_items SET sealed = (SELECT sealed FROM vault_items WHERE id = ?) WHERE id = ?').run('victim', 'attacker-visible');
      expect(syncVaultError(() => vault.get('attacker-visible')).code).toBe('corrupt');
      raw().prepare('INSERT INTO vault_items (id, key_id, sealed, created_at, updated_at) SELECT ?, key_id, sealed, 0, 0 FROM vault_items WHERE id = ?').run('copy', 'victim');
      expect(syncVaultError(() => vault.get('copy')).code).toBe('corrupt');
      expect(vault.get('victim')?.toString()).toBe('the real secret');
    });

    it('a changed key id or a flipped bit does not open', () => {
      vault.put('item', 'value');
      const sealed = sealedOf('item');
      raw().prepare("UPDATE vault_items SET key_id = 'key_forged' WHERE id = 'item'").run();
      expect(syncVaultError(() => vault.get('item')).code).toBe('corrupt');
      raw().prepare('UPDATE vault_items SET key_id = ? WHERE id = ?').run(meta().key_id, 'item');
      const flipped = Buffer.from(sealed);
      flipped[20] = flipped[20]! ^ 1;
      raw().prepare('UPDATE vault_items SET sealed = ? WHERE id = ?').run(flipped, 'item');
      expect(syncVaultError(() => vault.get('item')).code).toBe('corrupt');
    });

    it('locked, it neither reads nor writes', () => {
      vault.put('item', 'value');
      vault.lock();
      expect(vault.status.state).toBe('locked');
      expect(syncVaultError(() => vault.get('item')).code).toBe('locked');
      expect(syncVaultError(() => vault.put('item', 'other')).code).toBe('locked');
    });

    it('reopens with its own key and refuses any other (the check value), keeping the same vault', async () => {
      vault.put('item', 'value');
      const before = meta();
      const reopened = new Vault(db, clock);
      expect(reopened.status).toMatchObject({ state: 'locked' });
      await reopened.unlock(backend);
      expect(reopened.get('item')?.toString()).toBe('value');

      const impostor: KeyVault = { backend: 'keychain', store: backend.store.bind(backend), load: async () => Buffer.alloc(32, 7) };
      const refused = new Vault(db, clock);
      expect((await rejection(refused.unlock(impostor))).code).toBe('corrupt');
      expect(refused.status.state).toBe('locked');
      expect(meta()).toEqual(before);
    });
  });

  describe('passphrase backend', () => {
    const passphrase = 'a long and memorable passphrase';

    it('records the scrypt parameters and salt in vault_meta, never the passphrase or the key', async () => {
      const vault = new Vault(db, clock);
      await vault.unlock(new PassphraseKeyVault(passphrase, TEST_SCRYPT));
      const row = meta();
      expect(row.backend).toBe('passphrase');
      const kdf = JSON.parse(row.kdf!) as Record<string, unknown>;
      expect(kdf).toEqual({ alg: 'scrypt', salt: expect.any(String), N: TEST_SCRYPT.N, r: TEST_SCRYPT.r, p: TEST_SCRYPT.p });
      expect(Buffer.from(kdf.salt as string, 'base64')).toHaveLength(16);
      // nonce, the wrapped 256-bit key, tag
      expect(row.wrapped_key).toHaveLength(12 + 32 + 16);
      vault.put('item', 'value');
      db.pragma('wal_checkpoint(TRUNCATE)');
      expect(readFileSync(file).includes(Buffer.from(passphrase))).toBe(false);
    });

    it('uses OWASP\'s scrypt cost (N=2^17, r=8, p=1) unless told otherwise', async () => {
      expect(DEFAULT_SCRYPT).toEqual({ N: 2 ** 17, r: 8, p: 1 });
      await new Vault(db, clock).unlock(new PassphraseKeyVault(passphrase));
      expect(JSON.parse(meta().kdf!)).toMatchObject({ alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
    });

    it('derives the key with the recorded parameters, whatever the caller passes now', async () => {
      const vault = new Vault(db, clock);
      await vault.unlock(new PassphraseKeyVault(passphrase, TEST_SCRYPT));
      vault.put('item', 'value');
      const later = new Vault(db, clock);
      await later.unlock(new PassphraseKeyVault(passphrase, { N: 2 ** 11, r: 4, p: 2 }));
      expect(later.get('item')?.toString()).toBe('value');
    });

    it('accepts the same passphrase typed in another Unicode normal form', async () => {
      await new Vault(db, clock).unlock(new PassphraseKeyVault('caf\u00e9 au lait', TEST_SCRYPT));
      const later = new Vault(db, clock);
      await later.unlock(new PassphraseKeyVault('cafe\u0301 au lait', TEST_SCRYPT));
      expect(later.status.state).toBe('unlocked');
    });

    it('a wrong passphrase is VaultError(wrong_passphrase); the vault stays locked and is never re-created', async () => {
      const first = new Vault(db, clock);
      await first.unlock(new PassphraseKeyVault(passphrase, TEST_SCRYPT));
      first.put('item', 'value');
      const before = { meta: meta(), items: db.prepare('SELECT * FROM vault_items').all() };

      const vault = new Vault(db, clock);
      const error = await rejection(vault.unlock(new PassphraseKeyVault('not the passphrase', TEST_SCRYPT)));
      expect(error.code).toBe('wrong_passphrase');
      expect(error.message).not.toContain('not the passphrase');
      expect(vault.status.state).toBe('locked');
      expect(syncVaultError(() => vault.get('item')).code).toBe('locked');
      expect({ meta: meta(), items: db.prepare('SELECT * FROM vault_items').all() }).toEqual(before);

      await vault.unlock(new PassphraseKeyVault(passphrase, TEST_SCRYPT));
      expect(vault.get('item')?.toString()).toBe('value');
    });

    it('an existing passphrase vault does not open with another backend, and is left as it was', async () => {
      await new Vault(db, clock).unlock(new PassphraseKeyVault(passphrase, TEST_SCRYPT));
      const before = meta();
      const vault = new Vault(db, clock);
      expect((await rejection(vault.unlock(new MemoryKeyVault()))).code).toBe('backend_mismatch');
      expect(meta()).toEqual(before);
      expect(count1(db, 'vault_meta')).toBe(1);
    });

    it('refuses an empty passphrase', () => {
      expect(syncVaultError(() => new PassphraseKeyVault('')).code).toBe('wrong_passphrase');
    });
  });
});

const count1 = (db: Db, table: string, where = '1 = 1', ...args: unknown[]): number =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...args) as { n: number }).n;

describe('a broker on a passphrase vault', () => {
  let dataDir: string;
  let service: Service;
  let first: TestBroker;
  let opened: Broker[] = [];
  let firstKid: string;

  const tokenRequest = (issuer: string) =>
    postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
  const vaultRows = (broker: Broker) => ({
    meta: broker.db.prepare('SELECT * FROM vault_meta').all(),
    items: broker.db.prepare('SELECT id, sealed FROM vault_items ORDER BY id').all(),
    keys: broker.db.prepare('SELECT kid FROM signing_keys ORDER BY kid').all(),
  });
  /** Opens the data dir the way `latchkey serve` does without LATCHKEY_VAULT_PASSPHRASE. */
  async function openWithout(passphrase?: string, port = 0): Promise<{ broker: Broker; issuer: string; admin: (path: string, body: unknown) => Promise<{ status: number; body: any }> }> {
    const broker = await Broker.open({ dataDir, passphrase, scrypt: TEST_SCRYPT, log: silentLogger });
    opened.push(broker);
    const issuer = await broker.listen(port);
    const admin = async (path: string, body: unknown) => {
      const response = await fetch(`${issuer}/api${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${broker.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    return { broker, issuer, admin };
  }

  beforeAll(async () => {
    first = await startBroker();
    dataDir = first.dataDir;
    service = await registerService(first);
    const issued = await tokenRequest(first.issuer);
    expect(issued.status).toBe(200);
    firstKid = JSON.parse(Buffer.from(issued.body.access_token.split('.')[0], 'base64url').toString()).kid;
    await first.close();
  });
  afterEach(async () => {
    for (const broker of opened.splice(0)) await broker.close();
  });
  afterAll(() => removeDataDir(dataDir));

  it('without its passphrase starts locked and answers 503 temporarily_unavailable, issuing nothing', async () => {
    const { broker, issuer } = await openWithout();
    expect(broker.vaultStatus()).toMatchObject({ state: 'locked', backend: 'passphrase' });
    const tokensBefore = count1(broker.db, 'issued_tokens');
    const refused = await tokenRequest(issuer);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(refused.body.access_token).toBeUndefined();
    expect(count1(broker.db, 'issued_tokens')).toBe(tokensBefore);
  });

  it('unlocks through POST /api/vault/unlock: a wrong passphrase keeps it locked, the right one lets it issue with the same keys', async () => {
    const { broker, issuer, admin } = await openWithout();
    const before = vaultRows(broker);

    const wrong = await admin('/vault/unlock', { passphrase: 'not it' });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).not.toContain('not it');
    expect(broker.vaultStatus().state).toBe('locked');
    expect((await tokenRequest(issuer)).status).toBe(503);
    expect(count1(broker.db, 'audit_log', "event = 'vault.unlock_failed'")).toBeGreaterThanOrEqual(1);

    const right = await admin('/vault/unlock', { passphrase: TEST_PASSPHRASE });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ state: 'unlocked', backend: 'passphrase' });
    const issued = await tokenRequest(issuer);
    expect(issued.status).toBe(200);
    const kid = JSON.parse(Buffer.from(issued.body.access_token.split('.')[0], 'base64url').toString()).kid;
    expect(kid).toBe(firstKid);
    expect(vaultRows(broker)).toEqual(before);
  });

  it('a wrong passphrase at start is refused and the vault is not re-created with a new key', async () => {
    const before = await (async () => {
      const { broker } = await openWithout();
      const rows = vaultRows(broker);
      await broker.close();
      opened = [];
      return rows;
    })();
    const error = await rejection(Broker.open({ dataDir, passphrase: 'a different passphrase', scrypt: TEST_SCRYPT, log: silentLogger }));
    expect(error.code).toBe('wrong_passphrase');
    const { broker, issuer } = await openWithout(TEST_PASSPHRASE);
    expect(vaultRows(broker)).toEqual(before);
    expect((await tokenRequest(issuer)).status).toBe(200);
  });

  it('while locked it still knows its own tokens: a revocation then stays revoked after the unlock', async () => {
    const { issuer: unlockedIssuer, broker: unlocked } = await openWithout(TEST_PASSPHRASE);
    const issued = await tokenRequest(unlockedIssuer);
    expect(issued.status).toBe(200);
    await unlocked.close();
    opened = [];

    // Same port, same issuer: only the vault differs.
    const { broker, issuer, admin } = await openWithout(undefined, Number(new URL(unlockedIssuer).port));
    expect(broker.vaultStatus().state).toBe('locked');
    // Public keys need no vault: the token is recognised, so the revocation is real, not a polite 200.
    const revoked = await postForm(`${issuer}/oauth2/token/revoke`, { token: issued.body.access_token }, { basic: [service.clientId, service.clientSecret] });
    expect(revoked.status).toBe(200);
    expect(count1(broker.db, 'issued_tokens', 'revoked_at IS NOT NULL')).toBe(1);
    expect((await admin('/vault/unlock', { passphrase: TEST_PASSPHRASE })).status).toBe(200);
    const introspected = await postForm(`${issuer}/oauth2/token/introspect`, { token: issued.body.access_token }, { basic: [service.clientId, service.clientSecret] });
    expect(introspected.body).toEqual({ active: false });
  });

  it('a failed unlock attempt on an unlocked vault does not lock it', async () => {
    const { broker, issuer, admin } = await openWithout(TEST_PASSPHRASE);
    expect(broker.vaultStatus().state).toBe('unlocked');
    expect((await admin('/vault/unlock', { passphrase: 'not it' })).status).toBe(400);
    expect(broker.vaultStatus().state).toBe('unlocked');
    expect((await tokenRequest(issuer)).status).toBe(200);
  });
});
