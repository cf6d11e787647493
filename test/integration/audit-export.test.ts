// The audit export honours the audit page's filters (issue 6): `GET /api/audit/export` with the filters of
// `GET /api/audit` exports every row they match, oldest first, not only the page's latest 200; the list pages
// back with a `before` cursor; and no secret is ever in an export, whatever the filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';

const VAULTED = 'https://vaulted.example.test/api';
const VAULTED_SECRET = 'sk-live-do-not-export-0123456789';

describe('audit export with filters', () => {
  let test: TestBroker;
  let busy: Service;
  let quiet: Service;
  let apiKey: string;
  const accessTokens: string[] = [];

  const exportText = async (query: Record<string, string>) => {
    const response = await fetch(`${test.issuer}/api/audit/export?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${test.broker.adminToken}` } });
    return { status: response.status, type: response.headers.get('content-type'), cache: response.headers.get('cache-control'), text: await response.text() };
  };
  const jsonl = async (query: Record<string, string>) => (await exportText({ format: 'jsonl', ...query })).text.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line));

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    busy = await registerService(test, { grantTypes: ['client_credentials', 'api_key'] });
    quiet = await registerService(test);
    apiKey = (await test.admin('POST', `/applications/${busy.clientId}/api-keys`)).body.api_key;
    await test.admin('POST', '/resources', { name: 'Vaulted', identifier: VAULTED, credential_type: 'vaulted', secret: VAULTED_SECRET });
    await test.admin('PATCH', `/applications/${busy.clientId}`, { add_resources: [VAULTED] });
    // More than a page of the audit page (200): issuances and refusals of one application, a few of another.
    for (let i = 0; i < 130; i++) {
      const issued = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: busy.resource }, { basic: [busy.clientId, busy.clientSecret] });
      accessTokens.push(issued.body.access_token);
      await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: quiet.resource }, { basic: [busy.clientId, busy.clientSecret] });
    }
    accessTokens.push((await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'api_key', api_key: apiKey, resource: busy.resource })).body.access_token);
    const released = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: VAULTED }, { basic: [busy.clientId, busy.clientSecret] });
    expect(released.body.access_token).toBe(VAULTED_SECRET);
    for (let i = 0; i < 3; i++) await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: quiet.resource }, { basic: [quiet.clientId, quiet.clientSecret] });
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('exports every row the filters match, oldest first, beyond the 200 the page shows', async () => {
    const allowed = await jsonl({ client_id: busy.clientId, decision: 'allow' });
    expect(allowed.length).toBe(132);
    expect(allowed.every((row) => row.client_id === busy.clientId && row.decision === 'allow')).toBe(true);
    expect(allowed.map((row) => row.seq)).toEqual([...allowed.map((row) => row.seq)].sort((a, b) => a - b));
    const refused = await jsonl({ client_id: busy.clientId, decision: 'deny' });
    expect(refused.length).toBe(130);
    expect(refused.every((row) => row.event === 'token.refused')).toBe(true);
    const everything = await jsonl({});
    expect(everything.length).toBe((test.broker.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n);
    expect(everything.length).toBeGreaterThan(270);
  });

  it('narrows by resource, user (subject or its alias user), event and time, as the list does', async () => {
    const quietRows = await jsonl({ resource: quiet.resource, client_id: quiet.clientId });
    expect(quietRows.map((row) => row.event)).toEqual(['token.issued', 'token.issued', 'token.issued']);
    expect((await jsonl({ resource: quiet.resource, decision: 'deny' })).length).toBe(130);
    const subject = `client:${quiet.clientId}`;
    expect((await jsonl({ user: subject })).map((row) => row.seq)).toEqual((await jsonl({ subject })).map((row) => row.seq));
    expect((await jsonl({ subject })).length).toBe(3);
    const second = quietRows[quietRows.length - 2];
    const at = Date.parse(second.at);
    const windowed = await jsonl({ resource: quiet.resource, since: String(at), until: String(at + 1) });
    expect(windowed.map((row) => row.seq)).toContain(second.seq);
    expect(windowed.every((row) => Date.parse(row.at) === at)).toBe(true);
    const listed = (await test.admin('GET', `/audit?resource=${encodeURIComponent(quiet.resource)}&event=token.issued`)).body as Array<{ seq: number }>;
    expect((await jsonl({ resource: quiet.resource, event: 'token.issued' })).map((row) => row.seq)).toEqual(listed.map((row) => row.seq).reverse());
    const csv = await exportText({ format: 'csv', resource: quiet.resource, event: 'token.issued' });
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text.trimEnd().split('\n')).toHaveLength(4);
  });

  it('the list pages back with before: the next page holds the rows older than the last one shown', async () => {
    const first = (await test.admin('GET', `/audit?client_id=${busy.clientId}&limit=200`)).body as Array<{ seq: number }>;
    expect(first).toHaveLength(200);
    const older = (await test.admin('GET', `/audit?client_id=${busy.clientId}&limit=200&before=${first[first.length - 1]!.seq}`)).body as Array<{ seq: number }>;
    const seen = [...first, ...older].map((row) => row.seq);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual((await jsonl({ client_id: busy.clientId })).map((row) => row.seq).reverse());
  });

  it('never holds a secret: client secrets, API keys, access tokens, a vaulted secret, the admin token', async () => {
    const secrets = [busy.clientSecret, quiet.clientSecret, apiKey, apiKey.slice('lk_sk_'.length), VAULTED_SECRET, test.broker.adminToken, ...accessTokens.map((jwt) => jwt.split('.')[2]!)];
    for (const query of [{}, { client_id: busy.clientId }, { decision: 'deny' }, { resource: VAULTED }] as Array<Record<string, string>>) {
      for (const format of ['jsonl', 'csv']) {
        const exported = await exportText({ format, ...query });
        expect(exported.status).toBe(200);
        expect(exported.cache).toBe('no-store');
        for (const secret of secrets) expect(exported.text).not.toContain(secret);
      }
    }
    expect((await jsonl({ resource: VAULTED })).map((row) => row.event)).toContain('secret.released');
  });

  it('refuses a bad filter or format with invalid_request', async () => {
    for (const query of [{ format: 'xml' }, {}, { format: 'jsonl', decision: 'maybe' }, { format: 'jsonl', since: 'yesterday' }, { format: 'jsonl', limit: '5' }, { format: 'csv', subject: 'a', user: 'b' }]) {
      const refused = await exportText(query as Record<string, string>);
      expect(refused.status, JSON.stringify(query)).toBe(400);
      expect(JSON.parse(refused.text).error).toBe('invalid_request');
    }
  });
});
