// Editing an application (issue 6 item 1): `PATCH /api/applications/:clientId` adds and removes resources
// and grant types and sets its scopes, checked as at creation, audited in the same transaction. Removing a
// dependency ends what was issued for it: its live access tokens are revoked, and neither a new grant nor
// the refresh of an earlier consent reaches it again (RFC 8707 §2.2 `invalid_target`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, ensureResource, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { auditHead, auditSince, expectRefused } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';
const MAIL = 'https://mail.example.test/api';
const API_KEY = 'urn:latchkey:params:oauth:grant-type:api-key';

describe('editing an application', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write'], 'Notes');
    await ensureResource(test, MAIL, ['mail:read'], 'Mail');
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  const tokenUrl = () => `${test.issuer}/oauth2/token`;
  const introspect = async (token: string, clientId: string, secret: string) =>
    (await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [clientId, secret] })).body as { active: boolean };

  it('removing a dependency revokes its live tokens there, refuses new ones (invalid_target), and audits both in one row', async () => {
    const app = (await test.admin('POST', '/applications', { name: 'Indexer', identity_type: 'service', resources: [NOTES, MAIL] })).body;
    const credentials = { basic: [app.client_id, app.client_secret] as [string, string] };
    const notesToken = (await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: NOTES }, credentials)).body.access_token as string;
    const mailToken = (await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: MAIL }, credentials)).body.access_token as string;

    const head = auditHead(test);
    const updated = await test.admin('PATCH', `/applications/${app.client_id}`, { remove_resources: [NOTES] });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ resources: [MAIL], changes: { resources_removed: [NOTES] } });
    const rows = auditSince(test, head);
    expect(rows.map((row) => row.event)).toEqual(['admin.application_updated']);
    expect(JSON.parse(rows[0]!.detail!)).toEqual({ changes: { resources_removed: [NOTES] }, access_tokens_revoked: 1 });

    expect(await introspect(notesToken, app.client_id, app.client_secret)).toEqual({ active: false });
    expect((await introspect(mailToken, app.client_id, app.client_secret)).active).toBe(true);
    await expectRefused(test, () => postForm(tokenUrl(), { grant_type: 'client_credentials', resource: NOTES }, credentials), { status: 400, error: 'invalid_target' });
    expect((await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: MAIL }, credentials)).status).toBe(200);
  });

  describe('a user\'s earlier consent', () => {
    let browser: Browser;
    let agent: DelegatedApp;
    let refreshToken: string;

    beforeAll(async () => {
      agent = await registerDelegatedApp(test, { authMethod: 'client_secret_basic', resources: [NOTES, MAIL] });
      browser = new Browser(test);
      await browser.signIn();
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow({
        response_type: 'code', client_id: agent.clientId, redirect_uri: agent.redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
        scope: 'notes:read notes:write mail:read', resource: [NOTES, MAIL],
      });
      const first = await postForm(tokenUrl(), { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: agent.redirectUri, resource: NOTES }, { basic: [agent.clientId, agent.clientSecret!] });
      expect(first.status).toBe(200);
      refreshToken = first.body.refresh_token;
    });
    const refresh = (resource: string, extra: Record<string, string> = {}) =>
      postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: refreshToken, resource, ...extra }, { basic: [agent.clientId, agent.clientSecret!] });

    it('narrowed scopes: refresh issues only what the application may still have, and refuses asking for more', async () => {
      expect((await test.admin('PATCH', `/applications/${agent.clientId}`, { scopes: ['notes:read', 'mail:read'] })).body.changes)
        .toEqual({ scopes: { from: null, to: ['notes:read', 'mail:read'] } });
      await expectRefused(test, () => refresh(NOTES, { scope: 'notes:write' }), { status: 400, error: 'invalid_scope' });
      const narrowed = await refresh(NOTES);
      expect(narrowed.status).toBe(200);
      expect(narrowed.body.scope).toBe('notes:read');
      refreshToken = narrowed.body.refresh_token;
    });

    it('a removed dependency is no longer reached by refresh (invalid_target); the consent still serves the others', async () => {
      await test.admin('PATCH', `/applications/${agent.clientId}`, { remove_resources: [MAIL] });
      await expectRefused(test, () => refresh(MAIL), { status: 400, error: 'invalid_target' });
      const notes = await refresh(NOTES);
      expect(notes.status).toBe(200);
      refreshToken = notes.body.refresh_token;
      // Adding it back restores what the user consented to: the consent was never widened, only the admin's limit.
      await test.admin('PATCH', `/applications/${agent.clientId}`, { add_resources: [MAIL] });
      expect((await refresh(MAIL)).status).toBe(200);
    });
  });

  it('grant types are added and removed, the scopes set and reset, each change audited', async () => {
    const app = (await test.admin('POST', '/applications', { name: 'Worker', identity_type: 'service', resources: [NOTES] })).body;
    const credentials = { basic: [app.client_id, app.client_secret] as [string, string] };
    const added = await test.admin('PATCH', `/applications/${app.client_id}`, { add_grant_types: ['api_key'], scopes: ['notes:read'] });
    expect(added.body).toMatchObject({ grant_types: ['client_credentials', API_KEY], scopes: ['notes:read'], changes: { grant_types_added: [API_KEY], scopes: { from: null, to: ['notes:read'] } } });
    expect((await postForm(tokenUrl(), { grant_type: 'client_credentials', resource: NOTES }, credentials)).body.scope).toBe('notes:read');
    await expectRefused(test, () => postForm(tokenUrl(), { grant_type: 'client_credentials', resource: NOTES, scope: 'notes:write' }, credentials), { status: 400, error: 'invalid_scope' });

    const removed = await test.admin('PATCH', `/applications/${app.client_id}`, { remove_grant_types: ['client_credentials'], scopes: null });
    expect(removed.body).toMatchObject({ grant_types: [API_KEY], scopes: null, changes: { grant_types_removed: ['client_credentials'], scopes: { from: ['notes:read'], to: null } } });
    await expectRefused(test, () => postForm(tokenUrl(), { grant_type: 'client_credentials', resource: NOTES }, credentials), { status: 400, error: 'unauthorized_client' });
    expect(count(test, 'audit_log', "event = 'admin.application_updated' AND client_id = ?", app.client_id)).toBe(2);
  });

  it('refuses what app create would refuse, and changes nothing', async () => {
    const service = (await test.admin('POST', '/applications', { name: 'Strict', resources: [NOTES] })).body.client_id as string;
    const delegated = await registerDelegatedApp(test, { authMethod: 'client_secret_basic', resources: [NOTES] });
    for (const [clientId, change] of [
      [service, { remove_resources: ['https://unknown.example.test/'] }],
      [service, { add_resources: [MAIL], remove_resources: [MAIL] }],
      [service, { scopes: ['mail:read'] }],
      [service, { scopes: ['not a scope'] }],
      [service, { remove_grant_types: ['client_credentials'] }],
      [service, { remove_grant_types: ['implicit'] }],
      [service, { add_grant_types: ['api_key'], remove_grant_types: ['api_key'] }],
      [delegated.clientId, { remove_grant_types: ['authorization_code'] }],
      [service, { remove_resources: [NOTES], scopes: ['notes:read'] }],
    ] as const) {
      const head = auditHead(test);
      const before = JSON.stringify([test.broker.db.prepare('SELECT * FROM applications ORDER BY client_id').all(), test.broker.db.prepare('SELECT * FROM application_dependencies ORDER BY client_id, resource').all()]);
      const result = await test.admin('PATCH', `/applications/${clientId}`, change);
      expect(result.status, JSON.stringify(change)).toBe(400);
      expect(result.body.error).toBe('invalid_request');
      expect(JSON.stringify([test.broker.db.prepare('SELECT * FROM applications ORDER BY client_id').all(), test.broker.db.prepare('SELECT * FROM application_dependencies ORDER BY client_id, resource').all()])).toBe(before);
      expect(auditHead(test)).toBe(head);
    }
  });
});
