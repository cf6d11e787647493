// What the broker knows survives a restart: the directory, API keys, issued and revoked tokens, and the
// audit chain, which still verifies and carries on from where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../main/core/audit/audit-log.js';
import { count, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';

describe('persistence across a restart', () => {
  let test: TestBroker;
  let service: Service;
  let apiKey: string;
  let revokedApiKey: string;
  let activeToken: string;
  let revokedToken: string;
  let before: { applications: unknown; resources: unknown; apiKeys: unknown; owner: unknown; audit: { ok: boolean; rows: number }; head: AuditRecord };

  const tokenUrl = () => `${test.issuer}/oauth2/token`;
  const bySecret = () => postForm(tokenUrl(), { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
  const byApiKey = (key: string) => postForm(tokenUrl(), { grant_type: 'api_key', api_key: key, resource: service.resource });
  const introspect = async (token: string) =>
    (await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [service.clientId, service.clientSecret] })).body;
  const head = (): AuditRecord => test.broker.audit.list({ limit: 1 })[0]!;

  beforeAll(async () => {
    test = await startBroker();
    expect((await test.admin('POST', '/setup', { name: 'Ada', email: 'ada@example.test' })).status).toBe(201);
    service = await registerService(test, { scopes: ['read', 'write'] });
    apiKey = (await test.admin('POST', `/applications/${service.clientId}/api-keys`)).body.api_key;
    const second = (await test.admin('POST', `/applications/${service.clientId}/api-keys`)).body;
    revokedApiKey = second.api_key;
    expect((await test.admin('POST', `/api-keys/${second.id}/revoke`)).status).toBe(200);

    const first = await bySecret();
    const other = await byApiKey(apiKey);
    expect([first.status, other.status]).toEqual([200, 200]);
    activeToken = first.body.access_token;
    revokedToken = other.body.access_token;
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: revokedToken }, { basic: [service.clientId, service.clientSecret] });
    expect(revoked.status).toBe(200);
    expect(await introspect(activeToken)).toMatchObject({ active: true });
    expect(await introspect(revokedToken)).toEqual({ active: false });

    before = {
      applications: (await test.admin('GET', '/applications')).body,
      resources: (await test.admin('GET', '/resources')).body,
      apiKeys: (await test.admin('GET', '/api-keys')).body,
      owner: (await test.admin('GET', '/status')).body.owner,
      audit: (await test.admin('GET', '/audit/verify')).body,
      head: head(),
    };
    expect(before.audit).toMatchObject({ ok: true });

    test = await test.restart();
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('the vault opens again with the same passphrase', () => {
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'unlocked', backend: 'passphrase' });
  });

  it('applications, resources, API keys and the owner are all still there, unchanged', async () => {
    expect((await test.admin('GET', '/applications')).body).toEqual(before.applications);
    expect((await test.admin('GET', '/resources')).body).toEqual(before.resources);
    expect((await test.admin('GET', '/api-keys')).body).toEqual(before.apiKeys);
    expect((await test.admin('GET', '/status')).body.owner).toEqual(before.owner);
  });

  it('the client secret and the API key still authenticate; the revoked API key is still refused', async () => {
    expect((await bySecret()).status).toBe(200);
    expect((await byApiKey(apiKey)).status).toBe(200);
    const refused = await byApiKey(revokedApiKey);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('an issued token still introspects active; a revoked one stays revoked', async () => {
    expect(await introspect(activeToken)).toMatchObject({ active: true, client_id: service.clientId, aud: service.resource });
    expect(await introspect(revokedToken)).toEqual({ active: false });
    expect(count(test, 'issued_tokens', 'revoked_at IS NOT NULL')).toBe(1);
  });

  it('the audit chain still verifies and continues from the row it ended on', async () => {
    expect((await bySecret()).status).toBe(200);
    const next = test.broker.audit.list({ afterSeq: before.head.seq, limit: 10_000 }).at(-1);
    expect(next).toBeDefined();
    expect(next!.seq).toBe(before.head.seq + 1);
    expect(next!.prev_hash).toBe(before.head.hash);
    const verified = (await test.admin('GET', '/audit/verify')).body;
    expect(verified.ok).toBe(true);
    expect(verified.rows).toBeGreaterThan(before.audit.rows);
    expect(verified.rows).toBe(count(test, 'audit_log'));
  });
});
