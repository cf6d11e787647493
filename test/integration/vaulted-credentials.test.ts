// Vaulted static credentials (issue 5 item 3) through the admin API, on a real broker with the passphrase
// vault: the secret is sealed on create, replaced by rotation, released to an application that may access
// the resource (client_credentials, api-key, token exchange, impersonation) with token_type N_A, each
// release audited, and it appears in no admin response, no audit row and no export.
import { deletePassword } from '@napi-rs/keyring/keytar.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeKeychain } from '../../main/core/vault/keychain.js';
import { TEST_PASSPHRASE, basicAuth, count, postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { postFormOverSocket } from '../support/local-socket.js';
import { auditHead, auditSince, expectRefused, expectUnchanged, snapshot } from '../support/refusals.js';

const STATIC_SECRET = 'urn:latchkey:params:oauth:token-type:static-secret';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';
const WEATHER = 'https://weather.example.test/api';
const NOTES = 'https://notes.example.test/api';
const FIRST = 'wx_live_7f3a9c1e5b2d4f60a8e1c3b5d7f9a1c3';
const SECOND = 'wx_live_second_0b1c2d3e4f5a6b7c8d9e0f1a2b3c';

interface App { clientId: string; clientSecret: string }

describe('vaulted static credentials (admin API, passphrase vault)', () => {
  let test: TestBroker;
  let reader: App;
  let outsider: App;
  const released: string[] = [FIRST, SECOND];

  const createApp = async (name: string, body: Record<string, unknown>): Promise<App> => {
    const created = await test.admin('POST', '/applications', { name, identity_type: 'service', ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { clientId: created.body.client_id, clientSecret: created.body.client_secret };
  };
  const clientCredentials = (who: App, extra: Record<string, string> = {}) =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: WEATHER, ...extra }, { basic: [who.clientId, who.clientSecret] });
  const expectNowhere = (text: string) => { for (const secret of released) expect(text).not.toContain(secret); };

  beforeAll(async () => {
    test = await startBroker({ socket: true });
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('creates a vaulted resource with its secret sealed in the vault; the view says only that there is one', async () => {
    const created = await test.admin('POST', '/resources', { name: 'Weather API', identifier: WEATHER, scopes: ['forecast'], credential_type: 'vaulted', secret: FIRST });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ identifier: WEATHER, credential_type: 'vaulted', has_secret: true, secret_set_at: expect.any(String) });
    expectNowhere(JSON.stringify(created.body));
    const item = test.broker.db.prepare('SELECT sealed FROM vault_items WHERE id = ?').get(`resource-secret:${WEATHER}`) as { sealed: Buffer };
    expect(item.sealed.includes(Buffer.from(FIRST))).toBe(false);
    expect((await test.admin('GET', '/resources')).body.find((r: { identifier: string }) => r.identifier === WEATHER)).toMatchObject({ has_secret: true });
    const row = test.broker.db.prepare("SELECT detail FROM audit_log WHERE event = 'admin.resource_created' AND resource = ?").get(WEATHER) as { detail: string };
    expect(JSON.parse(row.detail)).toEqual({ credential_type: 'vaulted' });
  });

  it('refuses a vaulted resource without a secret, and a secret on a token resource, writing nothing', async () => {
    const before = snapshot(test);
    const missing = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', credential_type: 'vaulted' });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/needs its secret/) } });
    const misplaced = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', secret: 'stray-secret-value-123' });
    expect(misplaced.status).toBe(400);
    expect(JSON.stringify(misplaced.body)).not.toContain('stray-secret-value-123');
    const empty = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', credential_type: 'vaulted', secret: '' });
    expect(empty.status).toBe(400);
    const huge = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', credential_type: 'vaulted', secret: 'h'.repeat(32_769) });
    expect(huge).toMatchObject({ status: 400, body: { error_description: 'secret: the secret is longer than 32 KiB' } });
    expectUnchanged(test, before);
  });

  it('client_credentials hands a dependent application the secret as N_A, with no expiry, scope or refresh token, and audits the release', async () => {
    reader = await createApp('Forecaster', { resources: [WEATHER] });
    const head = auditHead(test);
    const answer = await clientCredentials(reader);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ access_token: FIRST, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const rows = auditSince(test, head);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: 'secret.released', decision: 'allow', client_id: reader.clientId, jti: null });
    expect(rows[0]).toMatchObject({ resource: WEATHER, grant_type: 'client_credentials' });
    expect(JSON.parse(rows[0]!.detail!)).toMatchObject({ scope: 'forecast', trust_level: 'shared_secret', secret_set_at: expect.any(Number) });
    expect(count(test, 'issued_tokens', 'audience = ?', WEATHER)).toBe(0);
  });

  it('a scope the resource does not have is invalid_scope; a registered one is checked and not echoed', async () => {
    await expectRefused(test, () => clientCredentials(reader, { scope: 'admin' }), { status: 400, error: 'invalid_scope', secrets: released });
    const scoped = await clientCredentials(reader, { scope: 'forecast' });
    expect(scoped.body).toEqual({ access_token: FIRST, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
  });

  it('an admin forbid policy denies the release like any issuance: access_denied, nothing released, the policy id audited', async () => {
    const added = await test.admin('POST', '/policies', { text: `forbid (principal == Application::"${reader.clientId}", action == Action::"autonomous", resource == Resource::"${WEATHER}");` });
    expect(added.status).toBe(201);
    try {
      const head = auditHead(test);
      await expectRefused(test, () => clientCredentials(reader), { status: 400, error: 'access_denied', secrets: released, mayChange: ['policies'] });
      const rows = auditSince(test, head);
      expect(rows.map((row) => row.event)).not.toContain('secret.released');
      expect(JSON.parse(rows.find((row) => row.event === 'token.refused')!.detail!)).toMatchObject({ policy: { decision: 'deny', policies: [added.body.id] } });
    } finally {
      expect((await test.admin('DELETE', `/policies/${added.body.id}`)).status).toBeLessThan(300);
    }
    expect((await clientCredentials(reader)).body.access_token).toBe(FIRST);
  });

  it('the api-key grant releases it too', async () => {
    const key = await test.admin('POST', `/applications/${reader.clientId}/api-keys`);
    const answer = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'api_key', api_key: key.body.api_key, resource: WEATHER });
    expect(answer.body).toEqual({ access_token: FIRST, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
  });

  it('an application without permission gets invalid_target, the same answer as an unknown resource; nothing released, the refusal audited', async () => {
    outsider = await createApp('Outsider', { resources: [] });
    const refused = await expectRefused(test, () => clientCredentials(outsider), { status: 400, error: 'invalid_target', secrets: released });
    const unknown = await expectRefused(test, () => clientCredentials(outsider, { resource: 'https://nowhere.example.test/' }), { status: 400, error: 'invalid_target', secrets: released });
    expect(refused.body).toEqual(unknown.body);
    expect(count(test, 'audit_log', "event = 'secret.released' AND client_id = ?", outsider.clientId)).toBe(0);
  });

  it('introspection answers inactive for a static secret and revocation 200: there is no jti to look up', async () => {
    const introspected = await postForm(`${test.issuer}/oauth2/token/introspect`, { token: FIRST }, { basic: [reader.clientId, reader.clientSecret] });
    expect(introspected).toMatchObject({ status: 200, body: { active: false } });
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: FIRST }, { basic: [reader.clientId, reader.clientSecret] });
    expect(revoked.status).toBe(200);
    expect((await clientCredentials(reader)).body.access_token).toBe(FIRST);
  });

  it('rotation replaces the secret atomically with its audit row; the next release is the new one', async () => {
    const before = (await test.admin('GET', '/resources')).body.find((r: { identifier: string }) => r.identifier === WEATHER);
    const head = auditHead(test);
    const rotated = await test.admin('POST', '/resources/secret', { identifier: WEATHER, secret: SECOND });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ identifier: WEATHER, has_secret: true });
    expect(Date.parse(rotated.body.secret_set_at)).toBeGreaterThanOrEqual(Date.parse(before.secret_set_at));
    expectNowhere(JSON.stringify(rotated.body));
    expect(auditSince(test, head).map((row) => row.event)).toEqual(['admin.resource_secret_replaced']);
    expect(count(test, 'vault_items', 'id = ?', `resource-secret:${WEATHER}`)).toBe(1);
    expect((await clientCredentials(reader)).body.access_token).toBe(SECOND);
  });

  it('rotation refuses an unknown resource, a token resource and an empty secret, changing nothing', async () => {
    await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] });
    const before = snapshot(test);
    expect((await test.admin('POST', '/resources/secret', { identifier: 'https://nowhere.example.test/', secret: 'x-secret-value' })).status).toBe(404);
    expect((await test.admin('POST', '/resources/secret', { identifier: NOTES, secret: 'x-secret-value' })).status).toBe(409);
    expect((await test.admin('POST', '/resources/secret', { identifier: WEATHER, secret: '' })).status).toBe(400);
    expectUnchanged(test, before);
  });

  it('token exchange to a vaulted target releases it, under the chain rules', async () => {
    // The caller's token for NOTES is addressed to the notes service; the notes service exchanges it for the weather secret.
    const notesService = await createApp('Notes service', { resources: [WEATHER], grant_types: ['token-exchange'] });
    await test.admin('POST', '/resources', { name: 'Notes B', identifier: 'https://notes-b.example.test/api', scopes: ['notes:read'], served_by: notesService.clientId });
    const caller = await createApp('Caller', { resources: ['https://notes-b.example.test/api'] });
    const subject = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: 'https://notes-b.example.test/api' }, { basic: [caller.clientId, caller.clientSecret] });
    expect(subject.status).toBe(200);
    const exchange = (extra: Record<string, string> = {}) => postForm(`${test.issuer}/oauth2/token`,
      { grant_type: TOKEN_EXCHANGE, subject_token: subject.body.access_token, subject_token_type: ACCESS_TOKEN, resource: WEATHER, ...extra },
      { basic: [notesService.clientId, notesService.clientSecret] });
    const head = auditHead(test);
    const answer = await exchange();
    expect(answer.body).toEqual({ access_token: SECOND, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
    const [row] = auditSince(test, head);
    expect(row).toMatchObject({ event: 'secret.released', client_id: notesService.clientId });
    expect(JSON.parse(row!.detail!)).toMatchObject({ actors: [notesService.clientId], delegation_depth: 1, subject_token_type: ACCESS_TOKEN });
    expect((await exchange({ requested_token_type: STATIC_SECRET })).body.access_token).toBe(SECOND);
    await expectRefused(test, () => exchange({ requested_token_type: ACCESS_TOKEN }), { status: 400, error: 'invalid_request', secrets: released });
  });

  it('impersonation over the socket releases it under the user\'s background-access grant', async () => {
    await setupOwner(test);
    const agent = await createApp('Nightly job', { resources: [WEATHER], grant_types: ['token-exchange'], consent_mode: 'implicit' });
    expect((await test.admin('PATCH', `/applications/${agent.clientId}`, { allow_impersonation: true })).status).toBe(200);
    const impersonate = () => postFormOverSocket(test.socket!, '/oauth2/token',
      { grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: WEATHER },
      { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    await expectRefused(test, impersonate, { status: 400, error: 'access_denied', secrets: released });
    expect((await test.admin('POST', '/consents', { client_id: agent.clientId, resources: [WEATHER], background: true })).status).toBe(201);
    const head = auditHead(test);
    const answer = await impersonate();
    expect(answer.body).toEqual({ access_token: SECOND, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
    const [row] = auditSince(test, head);
    expect(row).toMatchObject({ event: 'secret.released', client_id: agent.clientId, reason: expect.stringMatching(/^impersonation/) });
    expect(JSON.parse(row!.detail!)).toMatchObject({ impersonation: true });
  });

  it('a locked vault: create and rotation are refused clearly with nothing written, and nothing is released', async () => {
    test.broker.vault.lock();
    try {
      const before = snapshot(test);
      const created = await test.admin('POST', '/resources', { name: 'Mail', identifier: 'https://mail.example.test/', credential_type: 'vaulted', secret: 'mail-secret-value-1' });
      expect(created).toMatchObject({ status: 409, body: { error_description: expect.stringMatching(/vault is locked.*nothing was saved/) } });
      const rotated = await test.admin('POST', '/resources/secret', { identifier: WEATHER, secret: 'mail-secret-value-1' });
      expect(rotated.status).toBe(409);
      expectUnchanged(test, before);
      await expectRefused(test, () => clientCredentials(reader), { status: 503, error: 'temporarily_unavailable', secrets: released });
    } finally {
      expect((await test.admin('POST', '/vault/unlock', { passphrase: TEST_PASSPHRASE })).body).toMatchObject({ state: 'unlocked' });
    }
    expect((await clientCredentials(reader)).body.access_token).toBe(SECOND);
  });

  it('the secrets appear in no admin response, no audit row and no export', async () => {
    for (const path of ['/resources', '/applications', '/audit?limit=1000', '/vault', '/status']) expectNowhere(JSON.stringify((await test.admin('GET', path)).body));
    expectNowhere(JSON.stringify(test.broker.db.prepare('SELECT * FROM audit_log').all()));
    for (const format of ['jsonl', 'csv']) {
      const exported = await fetch(`${test.issuer}/api/audit/export?format=${format}`, { headers: { authorization: `Bearer ${test.broker.adminToken}` } });
      const text = await exported.text();
      expect(text).toContain('secret.released');
      expectNowhere(text);
    }
    expect((await test.admin('GET', '/audit/verify')).body).toMatchObject({ ok: true });
  });
});

const probe = await probeKeychain();
if (!probe.available) console.warn(`vaulted-credentials keychain tests skipped: no usable OS keychain (${probe.reason}); run them under \`dbus-run-session -- bash scripts/with-keyring.sh\``);

describe('vaulted static credentials (real Secret Service)', () => {
  let test: TestBroker;
  let vaultId: string | undefined;
  const SECRET = 'kc_secret_4e5f6a7b8c9d0e1f2a3b4c5d';

  afterAll(async () => {
    if (!test) return;
    await test.close();
    if (vaultId) await deletePassword('Latchkey', `vault-master-key:${vaultId}`).catch(() => false);
    removeDataDir(test.dataDir);
  });

  it.skipIf(!probe.available)('seals the secret under the keychain\'s master key, releases it, and still does after a restart', async () => {
    test = await startBroker({ vault: 'keychain' });
    vaultId = (test.broker.db.prepare('SELECT vault_id FROM vault_meta').get() as { vault_id: string }).vault_id;
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', backend: 'keychain' });
    const created = await test.admin('POST', '/resources', { name: 'Weather', identifier: WEATHER, credential_type: 'vaulted', secret: SECRET });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const app = await test.admin('POST', '/applications', { name: 'Forecaster', identity_type: 'service', resources: [WEATHER] });
    const release = (t: TestBroker) => postForm(`${t.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: WEATHER }, { basic: [app.body.client_id, app.body.client_secret] });
    expect((await release(test)).body).toEqual({ access_token: SECRET, issued_token_type: STATIC_SECRET, token_type: 'N_A' });
    test.broker.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(test.dataDir, 'latchkey.db')).includes(Buffer.from(SECRET))).toBe(false);
    test = await test.restart();
    expect((await release(test)).body.access_token).toBe(SECRET);
    expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM audit_log').all())).not.toContain(SECRET);
  });
});
