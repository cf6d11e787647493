// "Lock vault" (issue 6): POST /api/vault/lock takes the master key and the private signing keys out of memory.
// Until the vault is unlocked again, everything that needs it fails closed (503 temporarily_unavailable):
// tokens, vaulted secrets. Public keys stay: the JWKS is served and the broker still knows its own tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { probeKeychain } from '../../main/core/vault/keychain.js';
import { TEST_PASSPHRASE, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { auditHead, auditSince, expectRefused, expectUnchanged, snapshot } from '../support/refusals.js';

const LOCKED = { status: 503, error: 'temporarily_unavailable' } as const;
const VAULTED = 'https://weather.example.test/api';
const STATIC_SECRET = 'wx_live_lock_test_0a1b2c3d4e5f60718293a4b5';

describe('lock vault (passphrase vault)', () => {
  let test: TestBroker;
  let service: Service;
  let reader: { clientId: string; clientSecret: string };

  const token = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
  const secret = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: VAULTED }, { basic: [reader.clientId, reader.clientSecret] });

  beforeAll(async () => {
    test = await startBroker();
    service = await registerService(test);
    expect((await test.admin('POST', '/resources', { name: 'Weather', identifier: VAULTED, credential_type: 'vaulted', secret: STATIC_SECRET })).status).toBe(201);
    const created = await test.admin('POST', '/applications', { name: 'Reader', identity_type: 'service', resources: [VAULTED] });
    reader = { clientId: created.body.client_id, clientSecret: created.body.client_secret };
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('locks: the status says so, the lock is audited, and tokens and vaulted secrets are refused until unlocked', async () => {
    const issued = await token();
    expect(issued.status).toBe(200);
    const kid = decodeProtectedHeader(issued.body.access_token).kid;
    const before = auditHead(test);

    const locked = await test.admin('POST', '/vault/lock');
    expect(locked).toMatchObject({ status: 200, body: { state: 'locked', backend: 'passphrase', message: expect.stringMatching(/^the vault was locked\. /) } });
    expect((await test.admin('GET', '/status')).body.vault).toEqual(locked.body);
    expect(auditSince(test, before).map((row) => [row.event, row.decision])).toEqual([['vault.locked', 'info']]);

    await expectRefused(test, token, { ...LOCKED, secrets: [service.clientSecret] });
    const release = await expectRefused(test, secret, { ...LOCKED, secrets: [STATIC_SECRET] });
    expect(release.text).not.toContain(STATIC_SECRET);

    // Public keys need no vault: the JWKS still publishes the key, and a token issued before is still known.
    expect(((await (await fetch(`${test.issuer}/.well-known/jwks.json`)).json()) as any).keys.map((key: { kid: string }) => key.kid)).toContain(kid);
    const introspected = await postForm(`${test.issuer}/oauth2/token/introspect`, { token: issued.body.access_token }, { basic: [service.clientId, service.clientSecret] });
    expect(introspected.body).toMatchObject({ active: true });

    expect((await test.admin('POST', '/vault/unlock', { passphrase: TEST_PASSPHRASE })).body).toMatchObject({ state: 'unlocked' });
    const again = await token();
    expect(again.status).toBe(200);
    // The same keys, unsealed again: locking never makes new ones.
    expect(decodeProtectedHeader(again.body.access_token).kid).toBe(kid);
    expect((await secret()).body.access_token).toBe(STATIC_SECRET);
  });

  it('a passphrase vault does not reopen without its passphrase (invalid_request), and stays locked', async () => {
    await test.admin('POST', '/vault/lock');
    const before = snapshot(test);
    for (const body of [undefined, {}, { passphrase: '' }]) {
      expect(await test.admin('POST', '/vault/unlock', body)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    }
    expect((await test.admin('POST', '/vault/unlock', { passphrase: 'not it' })).status).toBe(400);
    expectUnchanged(test, before);
    expect((await test.admin('GET', '/vault')).body.state).toBe('locked');
    await expectRefused(test, token, LOCKED);
    await test.admin('POST', '/vault/unlock', { passphrase: TEST_PASSPHRASE });
  });

  it('locking needs the admin token (401)', async () => {
    const response = await fetch(`${test.issuer}/api/vault/lock`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect((await test.admin('GET', '/vault')).body.state).toBe('unlocked');
  });
});

const probe = await probeKeychain();
if (!probe.available) console.warn(`vault-lock keychain test skipped: no usable OS keychain (${probe.reason})`);

describe.skipIf(!probe.available)('lock vault (keychain vault)', () => {
  it('a keychain vault locked by the user reopens from its keychain with no passphrase, and issues with the same key', async () => {
    const test = await startBroker({ vault: 'keychain' });
    try {
      const service = await registerService(test);
      const token = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
      const kid = decodeProtectedHeader((await token()).body.access_token).kid;
      expect((await test.admin('POST', '/vault/lock')).body).toMatchObject({ state: 'locked', backend: 'keychain' });
      await expectRefused(test, token, LOCKED);
      expect((await test.admin('POST', '/vault/unlock', {})).body).toMatchObject({ state: 'unlocked', backend: 'keychain' });
      expect(decodeProtectedHeader((await token()).body.access_token).kid).toBe(kid);
    } finally {
      await test.close();
      removeDataDir(test.dataDir);
    }
  });
});
