// Impersonation (issue 4 item 2): token exchange whose subject token is a substitute-user token (the user's
// email or id), for a background agent acting for the user without them. Refused by default; allowed only
// over the local socket, for an application the admin permitted, in implicit consent mode, under the user's
// background-access grant for the target. A real broker, its real socket, expectRefused for every refusal.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, count, postForm, removeDataDir, startBroker, type HttpResult, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { postFormOverSocket } from '../support/local-socket.js';
import { auditHead, auditSince, expectRefused } from '../support/refusals.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';
const NOTES = 'https://notes.example.test/api';
const CALENDAR = 'https://calendar.example.test/api';

interface App { clientId: string; clientSecret: string }

describe('impersonation (substitute-user token exchange)', () => {
  let test: TestBroker;
  let socket: string;
  let userId: string;

  async function app(name: string, extra: Record<string, unknown> = {}): Promise<App> {
    const created = await test.admin('POST', '/applications', { name, identity_type: 'service', grant_types: ['token-exchange'], resources: [NOTES, CALENDAR], ...extra });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return { clientId: created.body.client_id, clientSecret: created.body.client_secret };
  }
  async function update(who: App, change: Record<string, unknown>): Promise<void> {
    const updated = await test.admin('PATCH', `/applications/${who.clientId}`, change);
    if (updated.status !== 200) throw new Error(JSON.stringify(updated.body));
  }
  async function grantBackground(who: App, resources: string[], scopes?: string[]): Promise<{ id: string }> {
    const granted = await test.admin('POST', '/consents', { client_id: who.clientId, resources, ...(scopes ? { scopes } : {}), background: true });
    if (granted.status !== 201) throw new Error(JSON.stringify(granted.body));
    return granted.body;
  }
  /** An application set up all the way: permitted, implicit, with the user's background grant for NOTES (notes:read). */
  async function readyApp(name: string): Promise<App> {
    const ready = await app(name, { consent_mode: 'implicit' });
    await update(ready, { allow_impersonation: true });
    await grantBackground(ready, [NOTES], ['notes:read']);
    return ready;
  }

  const request = (extra: Record<string, string> = {}) => ({ grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: NOTES, ...extra });
  const overSocket = (who: App, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<HttpResult> =>
    postFormOverSocket(socket, '/oauth2/token', request(extra), { authorization: basicAuth(who.clientId, who.clientSecret), ...headers });
  const overTcp = (who: App, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<HttpResult> =>
    postForm(`${test.issuer}/oauth2/token`, request(extra), { basic: [who.clientId, who.clientSecret], headers });
  const introspect = async (token: string, who: App) => (await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [who.clientId, who.clientSecret] })).body;
  const lastRefusal = () => {
    const row = test.broker.db.prepare("SELECT reason, detail FROM audit_log WHERE event = 'token.refused' ORDER BY seq DESC LIMIT 1").get() as { reason: string; detail: string | null };
    return { reason: row.reason, detail: JSON.parse(row.detail ?? '{}') as Record<string, unknown> };
  };

  beforeAll(async () => {
    test = await startBroker({ socket: true });
    socket = test.socket!;
    userId = await setupOwner(test);
    for (const [identifier, scopes] of [[NOTES, ['notes:read', 'notes:write']], [CALENDAR, ['cal:read']]] as const) {
      const created = await test.admin('POST', '/resources', { name: identifier, identifier, scopes });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    }
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('is refused by default: an application registered for token exchange is not permitted to impersonate (unauthorized_client)', async () => {
    const fresh = await app('Fresh agent');
    expect((await test.admin('GET', `/applications/${fresh.clientId}`)).body).toMatchObject({ allow_impersonation: false, consent_mode: 'explicit' });
    await expectRefused(test, () => overSocket(fresh), { status: 400, error: 'unauthorized_client', secrets: [fresh.clientSecret] });
    expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'permitted' });
  });

  it('works over the socket once the admin permitted it, its consent mode is implicit and the user granted background access', async () => {
    const agent = await app('Background indexer');
    // Refused first (its entry is now in the application cache), then set up step by step.
    await expectRefused(test, () => overSocket(agent), { status: 400, error: 'unauthorized_client' });
    await update(agent, { consent_mode: 'implicit' });
    await expectRefused(test, () => overSocket(agent), { status: 400, error: 'unauthorized_client' });
    await update(agent, { allow_impersonation: true });
    await expectRefused(test, () => overSocket(agent), { status: 400, error: 'access_denied' });
    await grantBackground(agent, [NOTES], ['notes:read']);

    const head = auditHead(test);
    const issued = await overSocket(agent, { subject_token: 'ADA@Example.COM' });
    expect(issued.status, issued.text).toBe(200);
    expect(issued.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', scope: 'notes:read' });
    expect(issued.body.refresh_token).toBeUndefined();
    const claims = decodeJwt(issued.body.access_token);
    expect(claims).toMatchObject({ sub: userId, aud: NOTES, client_id: agent.clientId, scope: 'notes:read', grant_type: TOKEN_EXCHANGE, delegation_depth: 1 });
    expect(claims.act).toEqual({ sub: `client:${agent.clientId}`, client_id: agent.clientId });

    const rows = auditSince(test, head);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: 'token.issued', decision: 'allow', client_id: agent.clientId, jti: claims.jti });
    expect(rows[0]!.reason).toMatch(/impersonation/);
    expect(JSON.parse(rows[0]!.detail!)).toMatchObject({ impersonation: true, subject_token_type: SUBSTITUTE_USER, delegation_depth: 1, actors: [agent.clientId] });

    // The user id names the user as well as the email; introspection shows the chain to the resource server.
    const byId = await overSocket(agent, { subject_token: userId });
    expect(byId.status).toBe(200);
    expect(await introspect(byId.body.access_token, agent)).toMatchObject({ active: true, sub: userId, delegation_depth: 1, act: { client_id: agent.clientId } });
  });

  describe('each condition failing alone is refused, issues nothing, and the audit row names it', () => {
    it('(a) over TCP, even when everything else is set up (invalid_request), and no header makes TCP look like the socket', async () => {
      const agent = await readyApp('TCP agent');
      expect((await overSocket(agent)).status).toBe(200);
      const result = await expectRefused(test, () => overTcp(agent), { status: 400, error: 'invalid_request', secrets: [agent.clientSecret] });
      expect(result.body.error_description).toBe('impersonation is only available over the local socket');
      expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'socket' });
      const forged = { 'x-forwarded-for': 'unix:', forwarded: 'for="unix:/run/latchkey.sock"', 'x-latchkey-transport': 'socket', 'x-transport': 'socket', via: '1.1 latchkey.sock' };
      await expectRefused(test, () => overTcp(agent, {}, forged), { status: 400, error: 'invalid_request' });
      expect(lastRefusal().detail).toMatchObject({ condition: 'socket' });
    });

    it('(b) not permitted by the admin, though implicit and granted (unauthorized_client)', async () => {
      const agent = await readyApp('Withdrawn permission');
      await update(agent, { allow_impersonation: false });
      await expectRefused(test, () => overSocket(agent), { status: 400, error: 'unauthorized_client' });
      expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'permitted' });
    });

    it('(b\u2032) permitted, but its permitting policy removed or an admin forbid in force: Cedar denies (access_denied, audited with the policy id)', async () => {
      const agent = await readyApp('Policy-less agent');
      expect((await overSocket(agent)).status).toBe(200);
      const forbid = await test.admin('POST', '/policies', { text: `forbid (principal == Application::"${agent.clientId}", action == Action::"impersonation", resource) unless { context.scopes.isEmpty() };` });
      expect(forbid.status).toBe(201);
      await expectRefused(test, () => overSocket(agent), { status: 400, error: 'access_denied' });
      expect(lastRefusal().detail).toMatchObject({ policy: { decision: 'deny', policies: [forbid.body.id] }, policy_action: 'impersonation' });
      await test.admin('DELETE', `/policies/${forbid.body.id}`);
      expect((await overSocket(agent)).status).toBe(200);

      const permit = (await test.admin('GET', '/policies')).body.policies.find((policy: { client_id: string | null }) => policy.client_id === agent.clientId);
      expect(permit.text).toContain('Action::"impersonation"');
      // Without any policy that may permit it, refused before the user is looked up, as when never permitted.
      await test.admin('DELETE', `/policies/${permit.id}`);
      await expectRefused(test, () => overSocket(agent), { status: 400, error: 'unauthorized_client' });
      expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'permitted' });
      // An admin's own permit is the permission, flag or not: here only for the nightly job's scope.
      const own = await test.admin('POST', '/policies', { text: `permit (principal == Application::"${agent.clientId}", action == Action::"impersonation", resource)\nwhen { context.scopes.contains("notes:read") && context has user && context.user.email == "ada@example.com" };` });
      expect(own.status).toBe(201);
      const issued = await overSocket(agent);
      expect(issued.status, issued.text).toBe(200);
    });

    it('deleting an application removes its impersonation permit', async () => {
      const agent = await readyApp('Deleted agent');
      expect(count(test, 'policies', 'client_id = ? AND removed_version IS NULL', agent.clientId)).toBe(1);
      expect((await test.admin('DELETE', `/applications/${agent.clientId}`)).status).toBe(200);
      expect(count(test, 'policies', 'client_id = ? AND removed_version IS NULL', agent.clientId)).toBe(0);
      expect(test.broker.policyEngine.adminPolicies.some((policy) => policy.text.includes(agent.clientId))).toBe(false);
    });

    it('(c) consent mode explicit, though permitted and granted (unauthorized_client, the same description as (b))', async () => {
      const agent = await readyApp('Explicit agent');
      await update(agent, { consent_mode: 'explicit' });
      const result = await expectRefused(test, () => overSocket(agent), { status: 400, error: 'unauthorized_client' });
      expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'implicit_consent' });
      const other = await app('Not permitted');
      expect((await overSocket(other)).body).toEqual(result.body);
    });

    it('(d) without the user\'s background-access grant for the target (access_denied)', async () => {
      const agent = await app('Ungranted agent', { consent_mode: 'implicit' });
      await update(agent, { allow_impersonation: true });
      await expectRefused(test, () => overSocket(agent), { status: 400, error: 'access_denied' });
      expect(lastRefusal().detail).toMatchObject({ impersonation: true, condition: 'background_grant' });
      // A grant for another resource does not cover this one.
      await grantBackground(agent, [CALENDAR]);
      await expectRefused(test, () => overSocket(agent), { status: 400, error: 'access_denied' });
      expect((await overSocket(agent, { resource: CALENDAR })).status).toBe(200);
    });

    it('an unknown user, and a disabled one, get the same invalid_request; an application that may not impersonate learns nothing of users', async () => {
      const agent = await readyApp('Probing agent');
      const unknown = await expectRefused(test, () => overSocket(agent, { subject_token: 'nobody@example.com' }), { status: 400, error: 'invalid_request' });
      expect(lastRefusal()).toMatchObject({ reason: expect.stringMatching(/unknown user/), detail: { impersonation: true, condition: 'user' } });
      test.broker.db.prepare("INSERT INTO users (id, name, email, is_owner, enabled, created_at) VALUES ('usr_disabled', 'Gone', 'gone@example.com', 0, 0, 0)").run();
      const disabled = await expectRefused(test, () => overSocket(agent, { subject_token: 'gone@example.com' }), { status: 400, error: 'invalid_request' });
      expect(disabled.body).toEqual(unknown.body);
      expect((await expectRefused(test, () => overSocket(agent, { subject_token: 'usr_disabled' }), { status: 400, error: 'invalid_request' })).body).toEqual(unknown.body);
      const stranger = await app('Stranger');
      const known = await overSocket(stranger);
      const notKnown = await overSocket(stranger, { subject_token: 'nobody@example.com' });
      expect(notKnown.body).toEqual(known.body);
      expect(known.body.error).toBe('unauthorized_client');
    });
  });

  it('scope is what was asked ∩ the background grant ∩ what the application may have; asking for more is invalid_scope', async () => {
    const agent = await readyApp('Scoped agent');
    await expectRefused(test, () => overSocket(agent, { scope: 'notes:write' }), { status: 400, error: 'invalid_scope' });
    expect((await overSocket(agent, { scope: 'notes:read' })).body.scope).toBe('notes:read');
    const limited = await app('App-limited agent', { consent_mode: 'implicit', scopes: ['notes:read'] });
    await update(limited, { allow_impersonation: true });
    const refused = await test.admin('POST', '/consents', { client_id: limited.clientId, resources: [NOTES], scopes: ['notes:write'], background: true });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    await grantBackground(limited, [NOTES]);
    expect((await overSocket(limited)).body.scope).toBe('notes:read');
  });

  it('a target that is not a dependency of the requester is invalid_target, even with a grant', async () => {
    const agent = await readyApp('Targeting agent');
    await expectRefused(test, () => overSocket(agent, { resource: 'https://elsewhere.example.test/' }), { status: 400, error: 'invalid_target' });
  });

  it('revoking the background grant makes its tokens inactive and refuses further impersonation', async () => {
    const agent = await app('Revoked agent', { consent_mode: 'implicit' });
    await update(agent, { allow_impersonation: true });
    const grant = await grantBackground(agent, [NOTES]);
    const issued = await overSocket(agent);
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('notes:read notes:write');
    expect((await introspect(issued.body.access_token, agent)).active).toBe(true);

    const withdrawn = await test.admin('POST', `/consents/${grant.id}/revoke`);
    expect(withdrawn.body).toMatchObject({ withdrawn: true, background: true });
    expect(await introspect(issued.body.access_token, agent)).toEqual({ active: false });
    await expectRefused(test, () => overSocket(agent), { status: 400, error: 'access_denied' });
    expect(count(test, 'audit_log', "event = 'consent.revoked' AND client_id = ?", agent.clientId)).toBe(1);
  });

  it('an impersonated token can be exchanged onward by the application serving its audience; revoking the grant takes that chain down too', async () => {
    const ledger = 'https://ledger.example.test/api';
    const mcpServer = 'https://notes-mcp.example.test/mcp';
    expect((await test.admin('POST', '/resources', { name: 'Ledger', identifier: ledger, scopes: ['ledger:read'] })).status).toBe(201);
    const server = await app('Notes MCP server', { resources: [ledger] });
    expect((await test.admin('POST', '/resources', { name: 'Notes MCP', identifier: mcpServer, scopes: ['mcp:use'], served_by: server.clientId })).status).toBe(201);
    const agent = await app('Chaining agent', { consent_mode: 'implicit', resources: [mcpServer] });
    await update(agent, { allow_impersonation: true });
    const grant = await grantBackground(agent, [mcpServer]);
    const first = await overSocket(agent, { resource: mcpServer });
    expect(first.status, first.text).toBe(200);

    const onward = await postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, subject_token: first.body.access_token, subject_token_type: ACCESS_TOKEN, resource: ledger },
      { basic: [server.clientId, server.clientSecret] });
    expect(onward.status, onward.text).toBe(200);
    expect(decodeJwt(onward.body.access_token)).toMatchObject({
      sub: userId, aud: ledger, delegation_depth: 2,
      act: { sub: `client:${server.clientId}`, client_id: server.clientId, act: { sub: `client:${agent.clientId}`, client_id: agent.clientId } },
    });
    await test.admin('POST', `/consents/${grant.id}/revoke`);
    expect(await introspect(onward.body.access_token, server)).toEqual({ active: false });
  });

  it('a background grant is not an interactive consent: it is listed as background and never reused by the consent page', async () => {
    const agent = await readyApp('Listed agent');
    const listed = (await test.admin('GET', `/consents?client_id=${agent.clientId}`)).body;
    expect(listed).toEqual([expect.objectContaining({ client_id: agent.clientId, resources: [NOTES], scopes: ['notes:read'], background: true, remembered: false })]);
    expect(test.broker.consents.findRemembered(userId, agent.clientId, [NOTES], ['notes:read'], [])).toBeNull();
    // Granting the same again changes nothing.
    const again = await test.admin('POST', '/consents', { client_id: agent.clientId, resources: [NOTES], scopes: ['notes:read'], background: true });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(listed[0].id);
  });

  describe('the admin API', () => {
    it('app update adds resources and grants, sets the consent mode and the permission, and audits every change', async () => {
      const created = await test.admin('POST', '/applications', { name: 'Plain service', resources: [NOTES] });
      const clientId = created.body.client_id as string;
      const head = auditHead(test);
      const updated = await test.admin('PATCH', `/applications/${clientId}`, { add_resources: [CALENDAR, NOTES], add_grant_types: ['token-exchange'], consent_mode: 'implicit', allow_impersonation: true });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        resources: [CALENDAR, NOTES], grant_types: ['client_credentials', TOKEN_EXCHANGE], consent_mode: 'implicit', allow_impersonation: true,
        changes: { resources_added: [CALENDAR], grant_types_added: [TOKEN_EXCHANGE], consent_mode: { from: 'explicit', to: 'implicit' }, allow_impersonation: { from: false, to: true } },
      });
      expect(auditSince(test, head).map((row) => row.event)).toEqual(['admin.application_updated', 'admin.impersonation_allowed', 'admin.policy_added']);
      const denied = await test.admin('PATCH', `/applications/${clientId}`, { allow_impersonation: false });
      expect(denied.body.allow_impersonation).toBe(false);
      expect(count(test, 'audit_log', "event = 'admin.impersonation_denied' AND client_id = ?", clientId)).toBe(1);
    });

    it('app update refuses what app create would, and changes nothing', async () => {
      const publicApp = (await test.admin('POST', '/applications', { name: 'Public', auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1/cb'] })).body.client_id as string;
      const service = (await test.admin('POST', '/applications', { name: 'Service', resources: [NOTES] })).body.client_id as string;
      for (const [clientId, change, status] of [
        [publicApp, { allow_impersonation: true }, 400],
        [publicApp, { add_grant_types: ['client_credentials'] }, 400],
        [service, { add_grant_types: ['refresh_token'] }, 400],
        [service, { add_grant_types: ['implicit'] }, 400],
        [service, { add_resources: ['https://unknown.example.test/'] }, 400],
        [service, { consent_mode: 'sometimes' }, 400],
        [service, {}, 400],
        [service, { name: 'Renamed' }, 400],
        ['app_unknown', { consent_mode: 'implicit' }, 404],
      ] as const) {
        const head = auditHead(test);
        const before = JSON.stringify(test.broker.db.prepare('SELECT * FROM applications ORDER BY client_id').all());
        const result = await test.admin('PATCH', `/applications/${clientId}`, change);
        expect(result.status, JSON.stringify(change)).toBe(status);
        expect(result.body.error).toBe('invalid_request');
        expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM applications ORDER BY client_id').all())).toBe(before);
        expect(auditHead(test)).toBe(head);
      }
    });

    it('a background grant needs a confidential application, its own resources, and only scopes it may have', async () => {
      const publicApp = (await test.admin('POST', '/applications', { name: 'Public grantee', auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], resources: [NOTES] })).body.client_id as string;
      const service = (await test.admin('POST', '/applications', { name: 'Notes only', resources: [NOTES] })).body.client_id as string;
      for (const [body, status] of [
        [{ client_id: publicApp, resources: [NOTES], background: true }, 400],
        [{ client_id: service, resources: [CALENDAR], background: true }, 400],
        [{ client_id: service, resources: [NOTES], scopes: ['cal:read'], background: true }, 400],
        [{ client_id: service, resources: [NOTES] }, 400],
        [{ client_id: 'app_unknown', resources: [NOTES], background: true }, 404],
      ] as const) {
        const head = auditHead(test);
        const result = await test.admin('POST', '/consents', body);
        expect(result.status, JSON.stringify(body)).toBe(status);
        expect(auditHead(test)).toBe(head);
      }
      expect(count(test, 'consents', 'client_id IN (?, ?)', publicApp, service)).toBe(0);
    });
  });
});
