// Signing keys: ES256 for access tokens, RS256 for ID tokens; private keys sealed in the vault; JWKS
// with public members only; rotation that keeps old tokens verifiable until they have expired; and a
// broker that refuses to issue, rather than make a new key, when a private key does not unseal.
import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../main/core/broker.js';
import type { Clock } from '../../main/core/clock.js';
import { type Logger, silentLogger } from '../../main/core/logger.js';
import { SigningKeyUnavailable } from '../../main/core/tokens/signing-keys.js';
import { PassphraseKeyVault } from '../../main/core/vault/passphrase.js';
import { count, postForm, registerService, removeDataDir, startBroker, TEST_PASSPHRASE, TEST_SCRYPT, type Service, type TestBroker } from '../support/broker.js';

interface KeyRow {
  kid: string;
  alg: string;
  purpose: 'access_token' | 'id_token';
  public_jwk: string;
  vault_item: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const keyRows = (test: TestBroker): KeyRow[] => test.broker.db.prepare('SELECT * FROM signing_keys ORDER BY created_at, purpose').all() as KeyRow[];
const kidOf = (jwt: string): string => decodeProtectedHeader(jwt).kid!;

async function jwksOf(test: TestBroker): Promise<{ keys: JWK[] }> {
  const response = await fetch(`${test.issuer}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as { keys: JWK[] };
}

describe('signing keys', () => {
  let now = Date.UTC(2025, 5, 1, 12);
  const clock: Clock = { now: () => now };
  let test: TestBroker;
  let service: Service;

  const issue = async (): Promise<string> => {
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(200);
    return result.body.access_token as string;
  };
  const introspect = async (token: string) =>
    (await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [service.clientId, service.clientSecret] })).body;
  const verifyWithJwks = async (token: string, jwks: { keys: JWK[] }) =>
    jwtVerify(token, createLocalJWKSet(jwks), { issuer: test.issuer, audience: service.resource, typ: 'at+jwt', currentDate: new Date(now) });

  beforeAll(async () => {
    test = await startBroker({ clock });
    service = await registerService(test);
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('after the first start: one ES256 key for access tokens and one RS256 key for ID tokens', () => {
    const rows = keyRows(test);
    expect(rows.map(({ purpose, alg, retired_at }) => ({ purpose, alg, retired_at })).sort((a, b) => a.purpose.localeCompare(b.purpose))).toEqual([
      { purpose: 'access_token', alg: 'ES256', retired_at: null },
      { purpose: 'id_token', alg: 'RS256', retired_at: null },
    ]);
  });

  it('private keys are vault items: sealed, with no private member in the clear anywhere in the file', () => {
    const rows = test.broker.db.prepare(
      'SELECT s.kid, s.public_jwk, s.vault_item, v.sealed FROM signing_keys s JOIN vault_items v ON v.id = s.vault_item',
    ).all() as Array<{ kid: string; public_jwk: string; vault_item: string; sealed: Buffer }>;
    expect(rows).toHaveLength(2);
    test.broker.db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(join(test.dataDir, 'latchkey.db'));
    for (const row of rows) {
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      for (const member of PRIVATE_MEMBERS) expect(publicJwk).not.toHaveProperty(member);
      // The vault opens it to the private JWK whose public half is the published one.
      const privateJwk = JSON.parse(test.broker.vault.get(row.vault_item)!.toString('utf8')) as JWK;
      expect(privateJwk.d).toEqual(expect.any(String));
      for (const [member, value] of Object.entries(publicJwk)) expect(privateJwk[member as keyof JWK]).toEqual(value);
      for (const needle of [Buffer.from(privateJwk.d!), Buffer.from(privateJwk.d!, 'base64url')]) {
        expect(row.sealed.includes(needle)).toBe(false);
        expect(file.includes(needle)).toBe(false);
      }
    }
  });

  it('JWKS publishes public members, kid, alg and use only', async () => {
    const jwks = await jwksOf(test);
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual(keyRows(test).map((row) => row.kid).sort());
    for (const key of jwks.keys) {
      expect(key.use).toBe('sig');
      if (key.alg === 'ES256') expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      else if (key.alg === 'RS256') expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      else throw new Error(`unexpected alg ${key.alg}`);
    }
  });

  it('rotation: new tokens carry the new kid; old tokens still verify; the old key is published until publish_until, then drops out', async () => {
    const oldToken = await issue();
    const oldKid = kidOf(oldToken);
    const rotated = await test.admin('POST', '/keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ kid: expect.any(String), retired: oldKid });
    const newKid: string = rotated.body.kid;
    expect(newKid).not.toBe(oldKid);
    expect(count(test, 'audit_log', "event = 'admin.keys_rotated'")).toBe(1);

    const newToken = await issue();
    expect(kidOf(newToken)).toBe(newKid);
    const jwks = await jwksOf(test);
    expect(jwks.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    await expect(verifyWithJwks(oldToken, jwks)).resolves.toBeTruthy();
    await expect(verifyWithJwks(newToken, jwks)).resolves.toBeTruthy();
    expect(await introspect(oldToken)).toMatchObject({ active: true });
    expect(await introspect(newToken)).toMatchObject({ active: true });

    const retired = keyRows(test).find((row) => row.kid === oldKid)!;
    expect(retired.retired_at).toBe(now);
    // At least as long as the longest-lived token it signed (ID tokens: an hour).
    expect(retired.publish_until! - now).toBeGreaterThanOrEqual(3600 * 1000);

    // A restart changes none of it.
    test = await test.restart();
    expect(kidOf(await issue())).toBe(newKid);
    expect((await jwksOf(test)).keys.map((key) => key.kid)).toContain(oldKid);
    expect(await introspect(oldToken)).toMatchObject({ active: true });

    now = retired.publish_until! - 1;
    expect((await jwksOf(test)).keys.map((key) => key.kid)).toContain(oldKid);
    now = retired.publish_until!;
    const after = await jwksOf(test);
    expect(after.keys.map((key) => key.kid)).not.toContain(oldKid);
    expect(after.keys.map((key) => key.kid)).toContain(newKid);
    expect(kidOf(await issue())).toBe(newKid);
  });
});

describe('a signing key that does not unseal at start', () => {
  const started: TestBroker[] = [];
  afterEach(async () => {
    for (const test of started.splice(0)) {
      await test.close();
      removeDataDir(test.dataDir);
    }
  });

  async function tamperAndRestart(tamper: (db: Database.Database, row: KeyRow) => void, purpose: KeyRow['purpose'] = 'access_token') {
    const first = await startBroker();
    const service = await registerService(first);
    const before = {
      keys: first.broker.db.prepare('SELECT * FROM signing_keys ORDER BY kid').all(),
      items: count(first, 'vault_items'),
      tokens: count(first, 'issued_tokens'),
    };
    const row = keyRows(first).find((key) => key.purpose === purpose)!;
    await first.close();
    const db = new Database(join(first.dataDir, 'latchkey.db'));
    try {
      tamper(db, row);
    } finally {
      db.close();
    }
    const test = await startBroker({ dataDir: first.dataDir });
    started.push(test);
    return { test, service, before, row };
  }

  const expectRefusal = async ({ test, service, before }: Awaited<ReturnType<typeof tamperAndRestart>>, itemsNow: number) => {
    const refused = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(refused.body.access_token).toBeUndefined();
    // No silent new key: the same rows, nothing sealed anew, nothing issued.
    expect(test.broker.db.prepare('SELECT * FROM signing_keys ORDER BY kid').all()).toEqual(before.keys);
    expect(count(test, 'vault_items')).toBe(itemsNow);
    expect(count(test, 'issued_tokens')).toBe(before.tokens);
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', message: expect.stringMatching(/signing key/) });
  };

  it('its vault item deleted: the broker refuses to issue (503) and makes no new key', async () => {
    const result = await tamperAndRestart((db, row) => {
      db.pragma('foreign_keys = OFF');
      expect(db.prepare('DELETE FROM vault_items WHERE id = ?').run(row.vault_item).changes).toBe(1);
    });
    await expectRefusal(result, result.before.items - 1);
  });

  it('its sealed blob corrupted: the broker refuses to issue (503) and makes no new key', async () => {
    const result = await tamperAndRestart((db, row) => {
      const { sealed } = db.prepare('SELECT sealed FROM vault_items WHERE id = ?').get(row.vault_item) as { sealed: Buffer };
      const corrupted = Buffer.from(sealed);
      corrupted[corrupted.length - 20] = corrupted[corrupted.length - 20]! ^ 0xff;
      db.prepare('UPDATE vault_items SET sealed = ? WHERE id = ?').run(corrupted, row.vault_item);
    });
    await expectRefusal(result, result.before.items);
  });
});

describe('the first ID-token key of a fresh data dir, made after start', () => {
  const opened: Array<{ broker: Broker; dataDir: string }> = [];
  afterEach(async () => {
    for (const { broker, dataDir } of opened.splice(0)) {
      await broker.close();
      removeDataDir(dataDir);
    }
  });

  async function openFresh(log: Logger = silentLogger): Promise<Broker> {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    const broker = await Broker.open({ dataDir, passphrase: TEST_PASSPHRASE, scrypt: TEST_SCRYPT, log });
    opened.push({ broker, dataDir });
    return broker;
  }
  const idTokenRows = (broker: Broker) => broker.db.prepare("SELECT kid, alg FROM signing_keys WHERE purpose = 'id_token'").all() as Array<{ kid: string; alg: string }>;

  it('access tokens can be signed at once; nothing signs an ID token until its key exists; then JWKS serves both keys', async () => {
    const broker = await openFresh();
    // Open has returned: the access-token key is there, the ID-token key is not, and nothing signs with a missing key.
    expect(broker.keys.signer('access_token').alg).toBe('ES256');
    expect(() => broker.keys.signer('id_token')).toThrow(SigningKeyUnavailable);

    await broker.keys.whenMade();
    const [row] = idTokenRows(broker);
    expect(row).toMatchObject({ alg: 'RS256' });
    expect(broker.keys.signer('id_token')).toMatchObject({ kid: row!.kid, alg: 'RS256' });
    expect(broker.vaultStatus()).toEqual({ state: 'unlocked', backend: 'passphrase', message: null });

    const issuer = await broker.listen(0);
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((key) => key.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(jwks.keys.find((key) => key.alg === 'RS256')!.kid).toBe(row!.kid);
  });

  it('when the key cannot be made, the broker says so, signs nothing with it, and makes it at the next unlock', async () => {
    const errors: string[] = [];
    const broker = await openFresh({ ...silentLogger, error: (message) => errors.push(message) });
    // Locked before the key is made: it cannot be sealed, so it must not come to exist at all.
    broker.vault.lock();
    await expect(broker.keys.whenMade()).rejects.toThrow(/locked/);
    expect(errors).toEqual([expect.stringMatching(/ID-token signing key could not be made/)]);
    expect(() => broker.keys.signer('id_token')).toThrow(SigningKeyUnavailable);
    expect(idTokenRows(broker)).toEqual([]);
    expect(broker.db.prepare("SELECT count(*) AS n FROM vault_items WHERE id LIKE 'signing-key:%'").get()).toEqual({ n: 1 });

    await broker.unlock(new PassphraseKeyVault(TEST_PASSPHRASE, TEST_SCRYPT));
    await broker.keys.whenMade();
    expect(idTokenRows(broker)).toHaveLength(1);
    expect(broker.keys.signer('id_token').alg).toBe('RS256');
    expect(broker.vaultStatus()).toMatchObject({ state: 'unlocked', message: null });
  });
});
