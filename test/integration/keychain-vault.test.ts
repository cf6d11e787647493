// The vault's master key in the REAL OS keychain: here, gnome-keyring's Secret Service in a private
// D-Bus session (scripts/with-keyring.sh). Without one, these tests are skipped and say why.
import { deletePassword, getPassword, setPassword } from '@napi-rs/keyring/keytar.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeKeychain } from '../../main/core/vault/keychain.js';
import { count, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';

const probe = await probeKeychain();
const noKeychain = !probe.available;
if (noKeychain) {
  console.warn(`keychain-vault tests skipped: no usable OS keychain (${probe.reason}); run them under \`dbus-run-session -- bash scripts/with-keyring.sh\``);
}

const SERVICE = 'Latchkey';
const account = (vaultId: string): string => `vault-master-key:${vaultId}`;

describe('keychain vault (real Secret Service)', () => {
  let test: TestBroker;
  let dataDir: string;
  let service: Service;
  let vaultId: string;
  let masterKeyB64: string;
  let firstToken: string;

  const vaultState = (t: TestBroker) => ({
    meta: t.broker.db.prepare('SELECT * FROM vault_meta').all(),
    items: t.broker.db.prepare('SELECT * FROM vault_items ORDER BY id').all(),
    keys: t.broker.db.prepare('SELECT * FROM signing_keys ORDER BY kid').all(),
  });
  const requestToken = (t: TestBroker) =>
    postForm(`${t.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
  const introspect = (t: TestBroker, token: string) =>
    postForm(`${t.issuer}/oauth2/token/introspect`, { token }, { basic: [service.clientId, service.clientSecret] });

  beforeAll(async () => {
    if (noKeychain) return;
    test = await startBroker({ vault: 'keychain' });
    dataDir = test.dataDir;
    service = await registerService(test);
  });
  afterAll(async () => {
    if (noKeychain) return;
    await test.close();
    if (vaultId) await deletePassword(SERVICE, account(vaultId)).catch(() => false);
    removeDataDir(dataDir);
  });

  it.skipIf(noKeychain)('answers the probe: a keychain is there, and concurrent probes do not trip over each other', async () => {
    const probes = await Promise.all(Array.from({ length: 8 }, () => probeKeychain()));
    expect(probes.filter((result) => !result.available)).toEqual([]);
  });

  it.skipIf(noKeychain)('a first start creates the master key in the keychain, and nothing of it in vault_meta', async () => {
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', backend: 'keychain' });
    const meta = test.broker.db.prepare('SELECT vault_id, backend, kdf, wrapped_key FROM vault_meta').get() as { vault_id: string; backend: string; kdf: string | null; wrapped_key: Buffer | null };
    expect(meta).toMatchObject({ backend: 'keychain', kdf: null, wrapped_key: null });
    vaultId = meta.vault_id;
    const stored = await getPassword(SERVICE, account(vaultId));
    expect(stored).not.toBeNull();
    masterKeyB64 = stored!;
    expect(Buffer.from(masterKeyB64, 'base64')).toHaveLength(32);

    const issued = await requestToken(test);
    expect(issued.status).toBe(200);
    firstToken = issued.body.access_token;
  });

  it.skipIf(noKeychain)('the master key never appears in the SQLite file (nor its WAL)', () => {
    test.broker.db.pragma('wal_checkpoint(PASSIVE)');
    const key = Buffer.from(masterKeyB64, 'base64');
    const files = ['latchkey.db', 'latchkey.db-wal'].map((name) => join(dataDir, name)).filter((file) => existsSync(file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of [key, Buffer.from(masterKeyB64), Buffer.from(key.toString('base64url')), Buffer.from(key.toString('hex'))]) {
        expect(bytes.includes(needle), `${file} holds the master key`).toBe(false);
      }
    }
  });

  it.skipIf(noKeychain)('a restart reads the same key back: same vault, same items, tokens still valid', async () => {
    const before = vaultState(test);
    test = await test.restart();
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', backend: 'keychain' });
    expect(await getPassword(SERVICE, account(vaultId))).toBe(masterKeyB64);
    expect(vaultState(test)).toEqual(before);
    expect((await introspect(test, firstToken)).body).toMatchObject({ active: true });
    expect((await requestToken(test)).status).toBe(200);
  });

  it.skipIf(noKeychain)('with the keychain entry deleted, the next start makes no new key: locked (key_missing), 503, items untouched', async () => {
    const before = vaultState(test);
    await test.close();
    expect(await deletePassword(SERVICE, account(vaultId))).toBe(true);

    test = await startBroker({ vault: 'keychain', dataDir });
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'locked', backend: 'keychain' });
    expect(test.broker.vault.status).toMatchObject({ state: 'locked', code: 'key_missing' });
    expect(await getPassword(SERVICE, account(vaultId))).toBeNull();
    expect(vaultState(test)).toEqual(before);

    const issuedBefore = count(test, 'issued_tokens');
    const refused = await requestToken(test);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(count(test, 'issued_tokens')).toBe(issuedBefore);
    expect(vaultState(test)).toEqual(before);
  });

  it.skipIf(noKeychain)('once the key is back in the keychain, the same vault opens and issues again', async () => {
    await test.close();
    await setPassword(SERVICE, account(vaultId), masterKeyB64);
    test = await startBroker({ vault: 'keychain', dataDir });
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', backend: 'keychain' });
    expect((await requestToken(test)).status).toBe(200);
  });
});
