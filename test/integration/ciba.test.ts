// Approvals for agents without a browser (issue 5 item 2): OpenID CIBA in poll mode. An agent asks at the
// backchannel authentication endpoint, polls the token endpoint, and the test answers as the user through the
// admin API. A real broker over real HTTP; oauth4webapi as the independent client; expectRefused for every
// refusal (nothing issued, audited).
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, removeDataDir, startBroker, type HttpResult, type TestBroker } from '../support/broker.js';
import { setupOwner, TestClock } from '../support/browser.js';
import { auditHead, auditSince, expectRefused } from '../support/refusals.js';
import type { ApprovalPrompt } from '../../main/core/consent/prompter.js';

const CIBA = 'urn:openid:params:grant-type:ciba';
const NOTES = 'https://notes.example.test/api';
const CALENDAR = 'https://calendar.example.test/api';

interface App { clientId: string; clientSecret: string }

describe('CIBA: approvals for agents without a browser', () => {
  let test: TestBroker;
  const clock = new TestClock();
  let userId: string;
  let agent: App;
  let other: App;
  let as: oauth.AuthorizationServer;

  async function app(name: string, extra: Record<string, unknown> = {}): Promise<App> {
    const created = await test.admin('POST', '/applications', { name, identity_type: 'agent', grant_types: ['ciba', 'refresh_token'], resources: [NOTES], scopes: ['notes:read'], ...extra });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return { clientId: created.body.client_id, clientSecret: created.body.client_secret };
  }
  const ask = (who: App, params: Record<string, string> = {}): Promise<HttpResult> =>
    postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read', ...params }, { basic: [who.clientId, who.clientSecret] });
  const poll = (who: App, authReqId: string): Promise<HttpResult> =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: authReqId }, { basic: [who.clientId, who.clientSecret] });
  async function asked(who: App, params: Record<string, string> = {}): Promise<{ authReqId: string; approvalId: string }> {
    const before = auditHead(test);
    const response = await ask(who, params);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const row = auditSince(test, before).find((audit) => audit.event === 'approval.requested')!;
    return { authReqId: response.body.auth_req_id, approvalId: JSON.parse(row.detail!).approval_id };
  }
  /** Past the poll interval, so the next poll is not too soon. */
  const waitInterval = (seconds = 5) => clock.advance(seconds * 1000);

  beforeAll(async () => {
    test = await startBroker({ clock });
    userId = await setupOwner(test);
    for (const [identifier, scopes] of [[NOTES, ['notes:read', 'notes:write']], [CALENDAR, ['cal:read']]] as const) {
      const created = await test.admin('POST', '/resources', { name: identifier, identifier, scopes });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    }
    agent = await app('Night agent');
    other = await app('Other agent');
    const issuer = new URL(test.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }));
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('is announced in discovery: the endpoint, poll mode, the grant type', () => {
    expect(as.backchannel_authentication_endpoint).toBe(`${test.issuer}/oauth2/bc-authorize`);
    expect(as.backchannel_token_delivery_modes_supported).toEqual(['poll']);
    expect(as.grant_types_supported).toContain(CIBA);
  });

  it('an agent polls while the user approves through the admin API, and gets the user\'s tokens once', async () => {
    const client: oauth.Client = { client_id: agent.clientId };
    const auth = oauth.ClientSecretBasic(agent.clientSecret);
    const started = await oauth.processBackchannelAuthenticationResponse(as, client, await oauth.backchannelAuthenticationRequest(as, client, auth,
      { login_hint: 'ada@example.com', scope: 'openid notes:read', resource: NOTES, binding_message: 'Night agent <job 42>' }, { [oauth.allowInsecureRequests]: true }));
    expect(started.auth_req_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started).toMatchObject({ expires_in: 300, interval: 5 });
    // Stored hashed: the value the agent holds is nowhere in the database.
    expect(count(test, 'backchannel_requests', 'CAST(auth_req_hash AS TEXT) = ? OR id = ?', started.auth_req_id, started.auth_req_id)).toBe(0);

    const pollOnce = async () => oauth.processBackchannelAuthenticationGrantResponse(as, client,
      await oauth.backchannelAuthenticationGrantRequest(as, client, auth, started.auth_req_id, { [oauth.allowInsecureRequests]: true }));
    await expect(pollOnce()).rejects.toMatchObject({ error: 'authorization_pending' });

    const pending = await test.admin('GET', '/approvals');
    const approval = pending.body.find((entry: { client_id: string }) => entry.client_id === agent.clientId);
    expect(approval).toMatchObject({ application: 'Night agent', user_id: userId, resources: [NOTES], scopes: ['openid', 'notes:read'], binding_message: 'Night agent <job 42>' });
    const approved = await test.admin('POST', `/approvals/${approval.id}/approve`);
    expect(approved).toMatchObject({ status: 200, body: { status: 'approved' } });
    expect((await test.admin('GET', '/approvals')).body.map((entry: { id: string }) => entry.id)).not.toContain(approval.id);

    waitInterval();
    const tokens = await pollOnce();
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ sub: userId, aud: NOTES, client_id: agent.clientId, scope: 'notes:read', grant_type: CIBA });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ sub: userId, aud: agent.clientId });

    // The refresh token works as for any user authorization.
    const refreshed = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { basic: [agent.clientId, agent.clientSecret] });
    expect(refreshed.status).toBe(200);

    // Single use: the same auth_req_id again buys nothing.
    waitInterval();
    await expectRefused(test, () => poll(agent, started.auth_req_id), { status: 400, error: 'invalid_grant', secrets: [started.auth_req_id, agent.clientSecret] });
    const audit = test.broker.db.prepare("SELECT event FROM audit_log WHERE event LIKE 'approval.%' ORDER BY seq").all() as Array<{ event: string }>;
    expect(audit.map((row) => row.event)).toEqual(expect.arrayContaining(['approval.requested', 'approval.approved']));
  });

  it('openid-client initiates and polls on its own schedule while the user approves', async () => {
    const config = await client.discovery(new URL(test.issuer), agent.clientId, agent.clientSecret, client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
    const started = await client.initiateBackchannelAuthentication(config, { login_hint: userId, scope: 'notes:read', resource: NOTES });
    const polling = client.pollBackchannelAuthenticationGrant(config, started);
    const [waiting] = (await test.admin('GET', '/approvals')).body.filter((entry: { client_id: string }) => entry.client_id === agent.clientId);
    expect((await test.admin('POST', `/approvals/${waiting.id}/approve`)).status).toBe(200);
    const tokens = await polling;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: userId, aud: NOTES, scope: 'notes:read', grant_type: CIBA });
  }, 20_000);

  it('a denied request answers access_denied, and nothing is issued', async () => {
    const { authReqId, approvalId } = await asked(agent);
    expect((await test.admin('POST', `/approvals/${approvalId}/deny`)).body).toMatchObject({ status: 'denied' });
    await expectRefused(test, () => poll(agent, authReqId), { status: 400, error: 'access_denied', secrets: [authReqId] });
    // A denied approval cannot be approved afterwards.
    expect((await test.admin('POST', `/approvals/${approvalId}/approve`)).status).toBe(409);
  });

  it('polling faster than the interval answers slow_down, and the interval grows by 5 seconds', async () => {
    const { authReqId } = await asked(agent);
    expect((await poll(agent, authReqId)).body.error).toBe('authorization_pending');
    await expectRefused(test, () => poll(agent, authReqId), { status: 400, error: 'slow_down', mayChange: ['backchannel_requests'] });
    // Now 10 s: 5 s later is still too soon.
    waitInterval(5);
    expect((await poll(agent, authReqId)).body.error).toBe('slow_down');
    waitInterval(15);
    expect((await poll(agent, authReqId)).body.error).toBe('authorization_pending');
  });

  it('a request not answered in time answers expired_token, and can no longer be approved', async () => {
    const { authReqId, approvalId } = await asked(agent, { requested_expiry: '60' });
    clock.advance(61_000);
    await expectRefused(test, () => poll(agent, authReqId), { status: 400, error: 'expired_token', secrets: [authReqId] });
    expect((await test.admin('POST', `/approvals/${approvalId}/approve`)).status).toBe(409);
  });

  it('another client\'s auth_req_id is invalid_grant, and leaves the request alone', async () => {
    const { authReqId, approvalId } = await asked(agent);
    await expectRefused(test, () => poll(other, authReqId), { status: 400, error: 'invalid_grant', secrets: [authReqId, other.clientSecret] });
    await expectRefused(test, () => poll(agent, 'A'.repeat(43)), { status: 400, error: 'invalid_grant' });
    await test.admin('POST', `/approvals/${approvalId}/approve`);
    waitInterval();
    expect((await poll(agent, authReqId)).status).toBe(200);
  });

  it('the live feed (server-sent events, admin only) announces a new approval', async () => {
    expect((await fetch(`${test.issuer}/api/approvals/events`)).status).toBe(401);
    const controller = new AbortController();
    const feed = await fetch(`${test.issuer}/api/approvals/events`, { headers: { authorization: `Bearer ${test.broker.adminToken}` }, signal: controller.signal });
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = feed.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const { authReqId, approvalId } = await asked(agent, { binding_message: 'job "42" <notes>' });
    while (!/event: approval\ndata: .*\n\n/.test(received)) received += decoder.decode((await reader.read()).value, { stream: true });
    const data = JSON.parse(/event: approval\ndata: (.*)\n\n/.exec(received)![1]!);
    expect(data).toMatchObject({ id: approvalId, client_id: agent.clientId, application: 'Night agent', user_id: userId, scopes: ['notes:read'], binding_message: 'job "42" <notes>' });
    // The secret the agent holds is never announced.
    expect(received).not.toContain(authReqId);
    controller.abort();
  });

  it('an approval remembered for a while answers the same request at once, until the time runs out', async () => {
    const first = await asked(agent);
    expect((await test.admin('POST', `/approvals/${first.approvalId}/approve`, { remember_seconds: 600 })).status).toBe(200);
    expect((await test.admin('POST', `/approvals/${first.approvalId}/approve`, { remember_seconds: 600 })).status).toBe(409);
    const consents = (await test.admin('GET', `/consents?client_id=${agent.clientId}`)).body;
    expect(consents).toEqual(expect.arrayContaining([expect.objectContaining({ scopes: ['notes:read'], remembered: true, remembered_until: expect.any(String) })]));

    const again = await asked(agent);
    expect((await test.admin('GET', '/approvals')).body.map((entry: { id: string }) => entry.id)).not.toContain(again.approvalId);
    const tokens = await poll(agent, again.authReqId);
    expect(tokens.status, tokens.text).toBe(200);
    expect(auditSince(test, 0).some((row) => row.event === 'approval.approved' && row.reason === 'remembered approval')).toBe(true);

    clock.advance(601_000);
    const later = await asked(agent);
    expect((await poll(agent, later.authReqId)).body.error).toBe('authorization_pending');
    expect((await test.admin('POST', `/approvals/${later.approvalId}/approve`, { remember_seconds: 0 })).status).toBe(400);
  });

  it('a chain hop the approval did not cover points the agent at CIBA; approving again covers it', async () => {
    const LEDGER = 'https://ledger.example.test/';
    const MCP = 'https://x.example.test/mcp';
    await test.admin('POST', '/resources', { name: 'Ledger', identifier: LEDGER, scopes: ['ledger:read'] });
    const x = await test.admin('POST', '/applications', { name: 'Xray', grant_types: ['token-exchange'], resources: [LEDGER] });
    const X = { clientId: x.body.client_id, clientSecret: x.body.client_secret };
    await test.admin('POST', '/resources', { name: 'Xray MCP', identifier: MCP, scopes: ['x:use'], served_by: X.clientId });
    const root = await app('Chain agent', { resources: [MCP], scopes: ['x:use'] });
    // Xray is disabled when the user approves, so the approval covers no hop for it.
    await test.admin('POST', `/applications/${X.clientId}/disable`);
    const userToken = async () => {
      const { authReqId, approvalId } = await asked(root, { resource: MCP, scope: 'x:use' });
      await test.admin('POST', `/approvals/${approvalId}/approve`);
      return (await poll(root, authReqId)).body.access_token as string;
    };
    const before = await userToken();
    await test.admin('POST', `/applications/${X.clientId}/enable`);
    const exchange = (token: string) => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource: LEDGER }, { basic: [X.clientId, X.clientSecret] });
    const refused = await expectRefused(test, () => exchange(before), { status: 400, error: 'interaction_required' });
    expect(refused.body.error_description).toMatch(/Chain agent can ask the user for it without a browser .*\/oauth2\/bc-authorize/);

    const after = await userToken();
    const exchanged = await exchange(after);
    expect(exchanged.status, exchanged.text).toBe(200);
    expect(decodeJwt(exchanged.body.access_token)).toMatchObject({ aud: LEDGER, scope: 'ledger:read', delegation_depth: 1 });
  });

  it('a shell\'s Prompter hears of each new approval; one that throws does not fail the request', async () => {
    const heard: ApprovalPrompt[] = [];
    const shell = await startBroker({ prompter: { approvalRequested: (prompt) => { heard.push(prompt); throw new Error('the window could not open'); } } });
    try {
      await setupOwner(shell);
      await shell.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] });
      const created = (await shell.admin('POST', '/applications', { name: 'Shell agent', grant_types: ['ciba'], resources: [NOTES] })).body;
      const response = await postForm(`${shell.issuer}/oauth2/bc-authorize`, { login_hint: 'ADA@example.com', resource: NOTES, binding_message: 'hello' },
        { basic: [created.client_id, created.client_secret] });
      expect(response.status, response.text).toBe(200);
      expect(heard).toEqual([expect.objectContaining({ clientId: created.client_id, applicationName: 'Shell agent', verified: true, downstream: [], resources: [NOTES], scopes: ['notes:read'], bindingMessage: 'hello' })]);
      expect(JSON.stringify(heard)).not.toContain(response.body.auth_req_id);
      // An application disabled meanwhile gets nothing, whatever the user answers.
      await shell.admin('POST', `/applications/${created.client_id}/disable`);
      expect((await shell.admin('POST', `/approvals/${heard[0]!.id}/approve`)).status).toBe(409);
    } finally {
      await shell.close();
      removeDataDir(shell.dataDir);
    }
  });

  it('an unknown user is unknown_user_id (CIBA §13), and nothing is queued', async () => {
    await expectRefused(test, () => ask(agent, { login_hint: 'nobody@example.com' }), { status: 400, error: 'unknown_user_id', secrets: [agent.clientSecret] });
  });

  it('validates the request like an authorization request for that application', async () => {
    await expectRefused(test, () => ask(agent, { resource: CALENDAR }), { status: 400, error: 'invalid_target' });
    await expectRefused(test, () => ask(agent, { scope: 'notes:write' }), { status: 400, error: 'invalid_scope' });
    await expectRefused(test, () => ask(agent, { binding_message: 'x'.repeat(101) }), { status: 400, error: 'invalid_binding_message' });
    await expectRefused(test, () => ask(agent, { binding_message: 'approve \u001b[2Jnow' }), { status: 400, error: 'invalid_binding_message' });
    await expectRefused(test, () => ask(agent, { binding_message: 'one\u2028two' }), { status: 400, error: 'invalid_binding_message' });
    await expectRefused(test, () => ask(agent, { login_hint: '' , requested_expiry: '0' }), { status: 400, error: 'invalid_request' });
    await expectRefused(test, () => ask(agent, { client_notification_token: 'abc' }), { status: 400, error: 'invalid_request' });
    await expectRefused(test, () => ask({ ...agent, clientSecret: 'wrong' }), { status: 401, error: 'invalid_client' });
    const service = await test.admin('POST', '/applications', { name: 'No CIBA', identity_type: 'service', resources: [NOTES] });
    await expectRefused(test, () => ask({ clientId: service.body.client_id, clientSecret: service.body.client_secret }), { status: 400, error: 'unauthorized_client' });
  });
});
