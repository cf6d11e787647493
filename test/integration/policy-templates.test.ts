// The policy editor's templates (shared/policy-templates.ts): each, filled in, is valid Cedar against
// Latchkey's schema, as the broker's validation endpoint decides, and does what its title says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { cedarString, POLICY_TEMPLATES } from '../../shared/policy-templates.js';

const NOTES = 'https://notes.example.test/api';

describe('policy templates', () => {
  let test: TestBroker;
  let appId: string;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    expect((await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read', 'notes:write'] })).status).toBe(201);
    const app = await test.admin('POST', '/applications', { name: 'Indexer', grant_types: ['client_credentials'], resources: [NOTES] });
    appId = app.body.client_id;
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  const input = () => ({ resource: NOTES, app: appId, scopes: ['notes:read'] });
  const whatIf = async (scopes: string[]) => (await test.admin('POST', '/policies/test', { app: appId, resource: NOTES, action: 'autonomous', scopes })).body;

  it.each(POLICY_TEMPLATES.map((template) => [template.id, template] as const))('%s validates against the schema', async (_id, template) => {
    const validated = await test.admin('POST', '/policies/validate', { text: template.text(input()) });
    expect(validated, JSON.stringify(validated.body)).toMatchObject({ status: 200, body: { valid: true, statements: 1 } });
  });

  it('a value with quotes or backslashes stays one string literal (no policy injection)', async () => {
    const hostile = 'https://x.example/"); permit (principal, action, resource); //\\';
    expect(cedarString(hostile)).toBe('"https://x.example/\\"); permit (principal, action, resource); //\\\\"');
    for (const template of POLICY_TEMPLATES) {
      const validated = await test.admin('POST', '/policies/validate', { text: template.text({ resource: hostile, app: hostile, scopes: [hostile] }) });
      expect(validated.body).toMatchObject({ valid: true, statements: 1 });
    }
    expect(() => cedarString('line\nbreak')).toThrow(/control character/);
  });

  it('read-only, saved, denies a write scope and still allows the read scope', async () => {
    expect(await whatIf(['notes:write'])).toMatchObject({ allowed: true });
    const template = POLICY_TEMPLATES.find((entry) => entry.id === 'read-only')!;
    const saved = await test.admin('POST', '/policies', { text: template.text(input()), description: template.title });
    expect(saved.status).toBe(201);
    expect(await whatIf(['notes:write'])).toMatchObject({ allowed: false, decision: 'deny' });
    expect(await whatIf(['notes:read'])).toMatchObject({ allowed: true });
    expect((await test.admin('DELETE', `/policies/${saved.body.id}`)).status).toBe(200);
  });

  it('block an application, saved, denies it everything', async () => {
    const template = POLICY_TEMPLATES.find((entry) => entry.id === 'block-app')!;
    const saved = await test.admin('POST', '/policies', { text: template.text(input()) });
    expect(await whatIf(['notes:read'])).toMatchObject({ allowed: false });
    await test.admin('DELETE', `/policies/${saved.body.id}`);
    expect(await whatIf(['notes:read'])).toMatchObject({ allowed: true });
  });
});
