import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, startBroker, type TestBroker } from '../support/broker.js';

describe('admin API', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker();
  });
  afterAll(() => test.close());

  const create = (headers: Record<string, string>) => fetch(`${test.issuer}/api/resources`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name: 'Sneaky', identifier: 'https://sneaky.example/' }),
  });

  it('refuses a request without the admin token, and changes nothing', async () => {
    const response = await create({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(count(test, 'resources')).toBe(0);
  });

  it('refuses a wrong admin token', async () => {
    const response = await create({ authorization: `Bearer ${'x'.repeat(43)}` });
    expect(response.status).toBe(401);
    expect(count(test, 'resources')).toBe(0);
  });

  it('refuses a foreign Origin even with the right token (a page must not drive the admin API)', async () => {
    const response = await create({ authorization: `Bearer ${test.broker.adminToken}`, origin: 'http://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(count(test, 'resources')).toBe(0);
  });

  it('validates input and names the problem, writing nothing', async () => {
    const bad = await test.admin('POST', '/resources', { name: 'No URI', identifier: 'not a uri' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_description).toMatch(/identifier/);
    const unknownDependency = await test.admin('POST', '/applications', { name: 'A', resources: ['https://nowhere.example/'] });
    expect(unknownDependency.status).toBe(400);
    expect(unknownDependency.body.error_description).toMatch(/unknown resource/);
    const unknownField = await test.admin('POST', '/applications', { name: 'A', is_admin: true });
    expect(unknownField.status).toBe(400);
    expect(count(test, 'applications')).toBe(0);
    expect(count(test, 'resources')).toBe(0);
  });

  it('shows a client secret once, at creation, and never again', async () => {
    await test.admin('POST', '/resources', { name: 'Notes', identifier: 'https://notes.example/' });
    const created = await test.admin('POST', '/applications', { name: 'Indexer', resources: ['https://notes.example/'] });
    expect(created.status).toBe(201);
    expect(created.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await test.admin('GET', '/applications');
    const shown = await test.admin('GET', `/applications/${created.body.client_id}`);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.client_secret);
    expect(JSON.stringify(shown.body)).not.toContain(created.body.client_secret);
    expect(count(test, 'audit_log', "event = 'admin.application_created' AND client_id = ?", created.body.client_id)).toBe(1);
  });

  it('GET /api/audit narrows by application, user, resource, decision and time, and refuses a malformed filter', async () => {
    await test.admin('POST', '/resources', { name: 'Calendar', identifier: 'https://calendar.example/' });
    const all = (await test.admin('GET', '/audit?limit=1000')).body as Array<{ seq: number; at: number; event: string; client_id: string | null; resource: string | null }>;
    const calendar = all.filter((row) => row.resource === 'https://calendar.example/');
    expect(calendar.map((row) => row.event)).toEqual(['admin.resource_created']);
    const query = (params: Record<string, string>) => test.admin('GET', `/audit?${new URLSearchParams(params)}`);
    expect((await query({ resource: 'https://calendar.example/' })).body).toEqual(calendar);
    const indexer = all.find((row) => row.event === 'admin.application_created')!;
    expect((await query({ client_id: indexer.client_id! })).body.map((row: { seq: number }) => row.seq)).toEqual([indexer.seq]);
    expect((await query({ subject: 'usr_nobody' })).body).toEqual([]);
    expect((await query({ decision: 'deny' })).body).toEqual([]);
    const at = calendar[0]!.at;
    expect((await query({ since: String(at), resource: 'https://calendar.example/' })).body).toHaveLength(1);
    expect((await query({ until: String(at), resource: 'https://calendar.example/' })).body).toHaveLength(0);
    for (const bad of [{ since: 'yesterday' }, { until: '-1' }, { decision: 'maybe' }, { is_admin: 'true' }] as Array<Record<string, string>>) {
      const refused = await query(bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
    }
  });

  it('refuses a public client registered for client_credentials', async () => {
    const result = await test.admin('POST', '/applications', { name: 'CLI', auth_method: 'none', grant_types: ['client_credentials'] });
    expect(result.status).toBe(400);
    expect(result.body.error_description).toMatch(/public client/);
  });

  it('refuses a grant type named like a member of Object.prototype as any unknown grant type, at creation and update', async () => {
    const before = count(test, 'applications');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const created = await test.admin('POST', '/applications', { name: 'Sneaky', grant_types: [name] });
      expect(created.status, name).toBe(400);
      expect(created.body).toMatchObject({ error: 'invalid_request', error_description: `unknown grant type: ${name}` });
    }
    const app = (await test.admin('POST', '/applications', { name: 'Plain' })).body;
    for (const change of [{ add_grant_types: ['constructor'] }, { remove_grant_types: ['__proto__'] }]) {
      const updated = await test.admin('PATCH', `/applications/${app.client_id}`, change);
      expect(updated.status, JSON.stringify(change)).toBe(400);
      expect(updated.body.error_description, JSON.stringify(change)).toMatch(/^unknown grant type: (constructor|__proto__)$/);
    }
    expect(count(test, 'applications')).toBe(before + 1);
  });
});
