// Brokered access to an external provider (issue 5 item 4), against a real upstream: oidc-provider on
// 127.0.0.1 with its own login and consent pages. The owner connects an account (authorization code + PKCE,
// state and iss checked); an application the user authorized gets the provider's access token for a brokered
// resource, which the provider itself accepts; Latchkey refreshes upstream once when the cached token nears
// expiry, however many requests want it; a revocation upstream becomes interaction_required and
// needs_attention; disconnecting revokes upstream. Every bad callback and every refused request changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, TestClock, consentForm, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { auditHead, auditSince, expectFrontChannelRefused, expectRefused, expectUnchanged, snapshot } from '../support/refusals.js';
import { postFormOverSocket } from '../support/local-socket.js';
import { startUpstream, type Upstream } from '../support/upstream-provider.js';

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';
const BROKERED = 'https://api.upstream.example.test/';
const TTL = 300;

describe('brokered access to an external provider (oidc-provider upstream)', () => {
  const clock = new TestClock();
  let test: TestBroker;
  let upstream: Upstream;
  let providerId: string;
  let ownerId: string;
  let agent: DelegatedApp;
  let browser: Browser;

  const providerView = async () => (await test.admin('GET', '/providers')).body.find((p: { id: string }) => p.id === providerId);
  const startConnect = async (): Promise<URL> => {
    const started = await test.admin('POST', `/providers/${providerId}/connect`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return upstream.authorize(started.body.authorization_url);
  };
  const callback = async (url: URL | string) => {
    const response = await fetch(url, { redirect: 'manual' });
    return { status: response.status, headers: response.headers, location: response.headers.get('location'), html: await response.text() };
  };
  const withParam = (url: URL, name: string, value: string | null): URL => {
    const changed = new URL(url);
    if (value === null) changed.searchParams.delete(name);
    else changed.searchParams.set(name, value);
    return changed;
  };
  /** A user-delegated code for the brokered resource (the consent is remembered after the first time). */
  const code = async (): Promise<{ code: string; verifier: string }> => {
    const { verifier, challenge } = pkce();
    const result = await browser.authorizeAndAllow({ response_type: 'code', client_id: agent.clientId, redirect_uri: agent.redirectUri, resource: BROKERED,
      code_challenge: challenge, code_challenge_method: 'S256', state: 's' }, { remember: true });
    return { code: result.code, verifier };
  };
  const redeem = (grant: { code: string; verifier: string }) => postForm(`${test.issuer}/oauth2/token`, {
    grant_type: 'authorization_code', client_id: agent.clientId, code: grant.code, code_verifier: grant.verifier, redirect_uri: agent.redirectUri, resource: BROKERED,
  });

  beforeAll(async () => {
    test = await startBroker({ clock, socket: true });
    upstream = await startUpstream({ redirectUri: `${test.issuer}/oauth2/providers/callback`, accessTokenTtl: TTL });
    ownerId = await setupOwner(test);
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(async () => {
    await test.close();
    await upstream.close();
    removeDataDir(test.dataDir);
  });

  it('registers a provider by its issuer: the client secret sealed in the vault, never shown again', async () => {
    const created = await test.admin('POST', '/providers', { name: 'Upstream', issuer: upstream.issuer, client_id: upstream.clientId, client_secret: upstream.clientSecret, scopes: ['openid', 'offline_access'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^prv_/), name: 'Upstream', issuer: upstream.issuer, client_id: upstream.clientId, has_client_secret: true,
      scopes: ['openid', 'offline_access'], status: 'not_connected', attention: null, connected_at: null, created_at: expect.any(String) });
    providerId = created.body.id;
    const item = test.broker.db.prepare('SELECT sealed FROM vault_items WHERE id = ?').get(`provider-client-secret:${providerId}`) as { sealed: Buffer };
    expect(item.sealed.includes(Buffer.from(upstream.clientSecret))).toBe(false);
    const all = JSON.stringify([(await test.admin('GET', '/providers')).body, test.broker.db.prepare('SELECT * FROM audit_log').all()]);
    expect(all).not.toContain(upstream.clientSecret);
    const resource = await test.admin('POST', '/resources', { name: 'Upstream API', identifier: BROKERED, credential_type: 'brokered', provider_id: providerId, upstream_scopes: ['api:read'] });
    expect(resource.status, JSON.stringify(resource.body)).toBe(201);
    expect(resource.body).toMatchObject({ credential_type: 'brokered', provider_id: providerId, upstream_scopes: ['api:read'] });
  });

  it('refuses a plain-http issuer that is not on loopback, and a brokered resource without a provider, writing nothing', async () => {
    const before = snapshot(test);
    const remote = await test.admin('POST', '/providers', { name: 'X', issuer: 'http://idp.example.test', client_id: 'x' });
    expect(remote).toMatchObject({ status: 400, body: { error_description: expect.stringMatching(/^issuer: must be https/) } });
    const orphan = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', credential_type: 'brokered' });
    expect(orphan.status).toBe(400);
    const unknown = await test.admin('POST', '/resources', { name: 'X', identifier: 'https://x.example.test/', credential_type: 'brokered', provider_id: 'prv_nope' });
    expect(unknown.status).toBe(400);
    expectUnchanged(test, before);
  });

  it('an application asking before the account is connected gets interaction_required saying where to reconnect', async () => {
    agent = await registerDelegatedApp(test, { resources: [BROKERED] });
    const grant = await code();
    const refused = await expectRefused(test, () => redeem(grant), { status: 400, error: 'interaction_required' });
    expect(refused.body.error_description).toContain(`latchkey provider connect ${providerId}`);
    expect(refused.body.error_description).toContain(`${test.issuer}/ui/`);
  });

  describe('the callback', () => {
    let good: URL;
    beforeAll(async () => {
      good = await startConnect();
      expect(good.origin + good.pathname).toBe(`${test.issuer}/oauth2/providers/callback`);
      expect(good.searchParams.get('iss')).toBe(upstream.issuer);
    });

    it('asks the provider for code + PKCE (S256) with a fresh state, its scopes and the resources\' upstream scopes', async () => {
      const started = await test.admin('POST', `/providers/${providerId}/connect`, {});
      const url = new URL(started.body.authorization_url);
      expect(url.origin).toBe(upstream.issuer);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({ response_type: 'code', client_id: upstream.clientId, code_challenge_method: 'S256',
        redirect_uri: `${test.issuer}/oauth2/providers/callback`, scope: 'openid offline_access api:read', prompt: 'consent' });
      expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
      expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
      expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM provider_connections').all())).not.toContain(url.searchParams.get('state'));
    });

    it('with a wrong state: an error page, audited, nothing changed', async () => {
      const page = await expectFrontChannelRefused(test, () => callback(withParam(good, 'state', 'x'.repeat(43))), { shown: 400 });
      expect(page.html).toContain('does not belong to a connection');
    });

    it('with a wrong iss (RFC 9207 mix-up): an error page, audited, nothing changed', async () => {
      await expectFrontChannelRefused(test, () => callback(withParam(good, 'iss', 'http://127.0.0.1:1')), { shown: 400 });
      await expectFrontChannelRefused(test, () => callback(withParam(good, 'iss', null)), { shown: 400 });
    });

    it('with an error from the provider: an error page naming it, audited, nothing changed', async () => {
      const errored = new URL(`${test.issuer}/oauth2/providers/callback`);
      errored.searchParams.set('error', 'access_denied');
      errored.searchParams.set('error_description', 'the user said <no>');
      errored.searchParams.set('state', good.searchParams.get('state')!);
      errored.searchParams.set('iss', upstream.issuer);
      const page = await expectFrontChannelRefused(test, () => callback(errored), { shown: 400 });
      expect(page.html).toContain('access_denied: the user said &#60;no&#62;');
    });

    it('with the provider\'s token endpoint down (5xx, or the connection dropped): a clear error page, audited, nothing changed', async () => {
      try {
        for (const mode of ['5xx', 'refuse'] as const) {
          upstream.tokenEndpoint = mode;
          const page = await expectFrontChannelRefused(test, () => callback(good), { shown: 502 });
          expect(page.html).toContain('did not complete the connection');
        }
      } finally {
        upstream.tokenEndpoint = 'up';
      }
      expect(await providerView()).toMatchObject({ status: 'not_connected' });
    });

    it('connects the account: tokens sealed in the vault, the connection spent, audited', async () => {
      const head = auditHead(test);
      const page = await callback(good);
      expect(page.status, page.html).toBe(200);
      expect(page.html).toContain('account is connected');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(await providerView()).toMatchObject({ status: 'connected', attention: null, connected_at: expect.any(String) });
      const rows = auditSince(test, head);
      expect(rows.map((row) => row.event)).toEqual(['provider.connected']);
      const refresh = test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)!.toString();
      expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM provider_accounts').all())).not.toContain(refresh);
      expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM audit_log').all())).not.toContain(refresh);
    });

    it('replayed: an error page, audited, nothing changed', async () => {
      const page = await expectFrontChannelRefused(test, () => callback(good), { shown: 400 });
      expect(page.html).toContain('used already');
    });
  });

  it('an authorized application gets the provider\'s access token, which the provider accepts; the release is audited without it', async () => {
    const head = auditHead(test);
    const answer = await redeem(await code());
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ access_token: expect.any(String), issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: expect.any(Number), refresh_token: expect.any(String) });
    expect(answer.body.expires_in).toBeGreaterThan(TTL - 10);
    expect(answer.body.expires_in).toBeLessThanOrEqual(TTL);
    expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200, body: { sub: 'ada' } });
    const rows = auditSince(test, head);
    const released = rows.find((row) => row.event === 'brokered.released')!;
    expect(released).toMatchObject({ decision: 'allow', client_id: agent.clientId, resource: BROKERED, grant_type: 'authorization_code' });
    expect(JSON.parse(released.detail!)).toMatchObject({ provider_id: providerId, upstream_scopes: 'api:read', policy: { decision: 'allow' } });
    expect(JSON.stringify(rows)).not.toContain(answer.body.access_token);
    expect(count(test, 'issued_tokens', 'audience = ?', BROKERED)).toBe(0);

    // Latchkey's refresh token buys the same again (RFC 8707 §2.2 resource on refresh).
    const refreshed = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', client_id: agent.clientId, refresh_token: answer.body.refresh_token, resource: BROKERED });
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.body.access_token).toBe(answer.body.access_token);
    expect(refreshed.body.refresh_token).not.toBe(answer.body.refresh_token);
  });

  describe('refreshing upstream', () => {
    const refreshTokenNow = () => test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)!.toString();
    /** Moves Latchkey's clock to 30 s before the cached upstream token expires: inside the 60 s margin. */
    const nearExpiry = () => {
      const account = test.broker.providerAccounts.get(providerId, ownerId)!;
      clock.advance(account.expiresAt! - 30_000 - clock.now());
    };

    it('refreshes once when the cached token nears expiry, however many requests want it; the rotated refresh token is stored', async () => {
      const cached = test.broker.providerAccounts.accessToken(providerId, ownerId)!;
      const oldRefresh = refreshTokenNow();
      nearExpiry();
      const grants = [];
      for (let i = 0; i < 5; i++) grants.push(await code());
      const before = upstream.refreshes;
      const answers = await Promise.all(grants.map(redeem));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(upstream.refreshes - before).toBe(1);
      const fresh = answers[0]!.body.access_token;
      expect(fresh).not.toBe(cached);
      expect(new Set(answers.map((answer) => answer.body.access_token))).toEqual(new Set([fresh]));
      expect(answers[0]!.body.expires_in).toBeGreaterThan(TTL - 10);
      expect(await upstream.userinfo(fresh)).toMatchObject({ status: 200, body: { sub: 'ada' } });
      expect(refreshTokenNow()).not.toBe(oldRefresh);
      const refreshed = test.broker.db.prepare("SELECT detail FROM audit_log WHERE event = 'provider.refreshed'").all() as Array<{ detail: string }>;
      expect(refreshed).toHaveLength(1);
      expect(JSON.parse(refreshed[0]!.detail)).toMatchObject({ provider_id: providerId, rotated_refresh_token: true });
      expect(JSON.stringify(refreshed)).not.toContain(fresh);
    });

    it('an upstream token endpoint that is down (5xx, or the connection dropped): 503 temporarily_unavailable, nothing stored, the same request works once it is back', async () => {
      nearExpiry();
      const grant = await code();
      const cached = test.broker.providerAccounts.accessToken(providerId, ownerId);
      const refresh = refreshTokenNow();
      try {
        for (const mode of ['5xx', 'refuse'] as const) {
          upstream.tokenEndpoint = mode;
          const refused = await expectRefused(test, () => redeem(grant), { status: 503, error: 'temporarily_unavailable' });
          expect(refused.body.error_description).toContain('Upstream is not answering right now');
        }
      } finally {
        upstream.tokenEndpoint = 'up';
      }
      expect(test.broker.providerAccounts.accessToken(providerId, ownerId)).toBe(cached);
      expect(refreshTokenNow()).toBe(refresh);
      expect((await providerView()).status).toBe('connected');
      const answer = await redeem(grant);
      expect(answer.status, answer.text).toBe(200);
      expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200 });
    });

    it('a refresh token revoked upstream: interaction_required saying where to reconnect, and the account needs attention', async () => {
      await upstream.revoke(refreshTokenNow());
      nearExpiry();
      const grant = await code();
      const refused = await expectRefused(test, () => redeem(grant), { status: 400, error: 'interaction_required', mayChange: ['provider_accounts', 'vault_items'] });
      expect(refused.body.error_description).toContain(`latchkey provider connect ${providerId}`);
      expect(refused.body.error_description).toContain(`${test.issuer}/ui/`);
      expect(await providerView()).toMatchObject({ status: 'needs_attention', attention: 'the upstream refresh token was revoked or has expired' });
      expect(test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)).toBeNull();
      // Still so on the next request, without asking the provider again.
      const before = upstream.refreshes;
      await expectRefused(test, () => redeem(grant), { status: 400, error: 'interaction_required' });
      expect(upstream.refreshes).toBe(before);
    });

    it('reconnecting clears the attention, and the application gets a token again', async () => {
      const page = await callback(await startConnect());
      expect(page.status, page.html).toBe(200);
      expect(await providerView()).toMatchObject({ status: 'connected', attention: null });
      const answer = await redeem(await code());
      expect(answer.status, answer.text).toBe(200);
      expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200 });
    });
  });

  describe('who may reach it', () => {
    it('autonomous access (client_credentials) to a brokered resource is refused: invalid_target, nothing changed', async () => {
      const service = await test.admin('POST', '/applications', { name: 'Nightly', identity_type: 'service', resources: [BROKERED] });
      const refused = await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: BROKERED },
        { basic: [service.body.client_id, service.body.client_secret] }), { status: 400, error: 'invalid_target' });
      expect(refused.body.error_description).toMatch(/only for a user/);
      const key = await test.admin('POST', `/applications/${service.body.client_id}/api-keys`);
      await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'api_key', api_key: key.body.api_key, resource: BROKERED }),
        { status: 400, error: 'invalid_target', secrets: [key.body.api_key] });
    });

    it('an application without that dependency is refused at the authorization endpoint: invalid_target, nothing changed', async () => {
      const stranger = await registerDelegatedApp(test, { resources: [] });
      const { challenge } = pkce();
      await expectFrontChannelRefused(test, () => browser.authorize({ response_type: 'code', client_id: stranger.clientId, redirect_uri: stranger.redirectUri, resource: BROKERED,
        code_challenge: challenge, code_challenge_method: 'S256', state: 'st' }), { redirect: { to: stranger.redirectUri, error: 'invalid_target', state: 'st', iss: test.issuer } });
    });

    it('token exchange with a user\'s token (a delegation chain the consent covered) reaches it for that user; an autonomous chain does not', async () => {
      const planner = await test.admin('POST', '/applications', { name: 'Planner', identity_type: 'mcp_server', grant_types: ['token-exchange'], resources: [BROKERED] });
      const served = 'http://127.0.0.1:7999/mcp';
      expect((await test.admin('POST', '/resources', { name: 'Planner MCP', identifier: served, scopes: ['plan:use'], served_by: planner.body.client_id })).status).toBe(201);
      const client = await registerDelegatedApp(test, { resources: [served] });
      const { verifier, challenge } = pkce();
      const { code: granted } = await browser.authorizeAndAllow({ response_type: 'code', client_id: client.clientId, redirect_uri: client.redirectUri, resource: served,
        code_challenge: challenge, code_challenge_method: 'S256' });
      const userToken = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', client_id: client.clientId, code: granted, code_verifier: verifier, redirect_uri: client.redirectUri });
      expect(userToken.status, userToken.text).toBe(200);
      const head = auditHead(test);
      const exchanged = await postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, subject_token: userToken.body.access_token, subject_token_type: ACCESS_TOKEN, resource: BROKERED },
        { basic: [planner.body.client_id, planner.body.client_secret] });
      expect(exchanged.status, exchanged.text).toBe(200);
      expect(exchanged.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer' });
      expect(await upstream.userinfo(exchanged.body.access_token)).toMatchObject({ status: 200, body: { sub: 'ada' } });
      const row = auditSince(test, head).find((r) => r.event === 'brokered.released')!;
      expect(row).toMatchObject({ client_id: planner.body.client_id, subject: ownerId });
      expect(JSON.parse(row.detail!)).toMatchObject({ provider_id: providerId, policy_action: 'delegation_chain', delegation_depth: 1 });

      // A chain that started without a user (a service's own token) has no upstream account to use: refused.
      const service = await test.admin('POST', '/applications', { name: 'Cron', identity_type: 'service', resources: [served] });
      const own = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: served }, { basic: [service.body.client_id, service.body.client_secret] });
      expect(own.status, own.text).toBe(200);
      await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, subject_token: own.body.access_token, subject_token_type: ACCESS_TOKEN, resource: BROKERED },
        { basic: [planner.body.client_id, planner.body.client_secret] }), { status: 400, error: 'invalid_target' });
    });

    it('an agent without a browser (CIBA) gets it once the user approves', async () => {
      const app = await test.admin('POST', '/applications', { name: 'Night agent', identity_type: 'agent', grant_types: ['ciba'], resources: [BROKERED] });
      expect(app.status, JSON.stringify(app.body)).toBe(201);
      const basic: [string, string] = [app.body.client_id, app.body.client_secret];
      const started = await postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: BROKERED }, { basic });
      expect(started.status, started.text).toBe(200);
      const approval = (await test.admin('GET', '/approvals')).body.find((entry: { client_id: string }) => entry.client_id === app.body.client_id);
      expect((await test.admin('POST', `/approvals/${approval.id}/approve`)).status).toBe(200);
      const answer = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: started.body.auth_req_id }, { basic });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: expect.any(Number) });
      expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200, body: { sub: 'ada' } });
    });

    it('impersonation over the local socket reaches it under the user\'s background grant, audited as impersonation', async () => {
      const app = await test.admin('POST', '/applications', { name: 'Indexer', identity_type: 'service', grant_types: ['token-exchange'], consent_mode: 'implicit', resources: [BROKERED] });
      expect(app.status, JSON.stringify(app.body)).toBe(201);
      expect((await test.admin('PATCH', `/applications/${app.body.client_id}`, { allow_impersonation: true })).status).toBe(200);
      const exchange = () => postFormOverSocket(test.socket!, '/oauth2/token', { grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: BROKERED },
        { authorization: `Basic ${Buffer.from(`${app.body.client_id}:${app.body.client_secret}`).toString('base64')}` });
      await expectRefused(test, exchange, { status: 400, error: 'access_denied' });
      const grant = await test.admin('POST', '/consents', { client_id: app.body.client_id, resources: [BROKERED], background: true });
      expect(grant.status, JSON.stringify(grant.body)).toBe(201);
      const head = auditHead(test);
      const answer = await exchange();
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({ access_token: expect.any(String), issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: expect.any(Number) });
      expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200, body: { sub: 'ada' } });
      const row = auditSince(test, head).find((r) => r.event === 'brokered.released')!;
      expect(JSON.parse(row.detail!)).toMatchObject({ provider_id: providerId, impersonation: true, policy_action: 'impersonation' });
    });
  });

  describe('the consent page offers to connect', () => {
    let other: DelegatedApp;
    const authorizeParams = (challenge: string) => ({ response_type: 'code', client_id: other.clientId, redirect_uri: other.redirectUri, resource: BROKERED,
      code_challenge: challenge, code_challenge_method: 'S256', state: 'back-here' });

    beforeAll(async () => {
      expect((await test.admin('POST', `/providers/${providerId}/disconnect`, {})).status).toBe(200);
      other = await registerDelegatedApp(test, { resources: [BROKERED] });
    });

    it('a connect form with a wrong CSRF token is refused, nothing changed', async () => {
      const { challenge } = pkce();
      const page = await browser.authorize(authorizeParams(challenge));
      const fields = { ...consentForm(page.html).fields, provider: providerId, csrf: 'forged' };
      await expectFrontChannelRefused(test, () => fetch(`${test.issuer}/oauth2/providers/connect`, { method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: test.issuer, cookie: browser.cookie! }, body: new URLSearchParams(fields).toString() })
        .then(async (response) => ({ status: response.status, headers: response.headers, location: response.headers.get('location'), html: await response.text() })), { shown: 403 });
    });

    it('connects from the consent page and comes back to the same authorization request', async () => {
      const { challenge } = pkce();
      const page = await browser.authorize(authorizeParams(challenge));
      expect(page.html).toContain('Connect Upstream');
      expect(page.html).toContain('with your Upstream account: <code>api:read</code>');
      expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(other.redirectUri).origin} ${upstream.issuer}`);
      const connect = /<form method="post" action="\/oauth2\/providers\/connect">([\s\S]*?)<\/form>/.exec(page.html)![1]!;
      const fields = Object.fromEntries([...connect.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [match[1]!, match[2]!]));
      const started = await fetch(`${test.issuer}/oauth2/providers/connect`, { method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: test.issuer, cookie: browser.cookie! }, body: new URLSearchParams(fields).toString() });
      expect(started.status).toBe(303);
      const back = await upstream.authorize(started.headers.get('location')!);
      // Bound to the browser that started it: without its Latchkey session the callback is refused.
      await expectFrontChannelRefused(test, () => callback(back), { shown: 403 });
      const returned = await browser.open(back.toString());
      expect(returned.status, returned.html).toBe(303);
      const location = new URL(returned.location!);
      expect(location.pathname).toBe('/oauth2/authorize');
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ client_id: other.clientId, resource: BROKERED, code_challenge: challenge, state: 'back-here' });
      expect(await providerView()).toMatchObject({ status: 'connected' });
      const again = await browser.open(location.toString());
      expect(again.status).toBe(200);
      expect(again.html).not.toContain('Connect Upstream');
    });
  });

  it('disconnecting revokes the refresh token upstream and deletes the vault items, audited', async () => {
    const refresh = test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)!.toString();
    expect(await upstream.introspect(refresh)).toMatchObject({ active: true });
    const head = auditHead(test);
    const result = await test.admin('POST', `/providers/${providerId}/disconnect`, {});
    expect(result.body).toMatchObject({ id: providerId, status: 'not_connected', connected_at: null });
    expect(await upstream.introspect(refresh)).toMatchObject({ active: false });
    expect(count(test, 'vault_items', "id LIKE 'provider-%-token:%'")).toBe(0);
    expect(count(test, 'provider_accounts')).toBe(0);
    const rows = auditSince(test, head);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event: 'provider.disconnected' });
    expect(JSON.parse(rows[0]!.detail!)).toEqual({ provider_id: providerId, upstream_revocation: 'revoked' });
    // In use by a resource: the provider itself stays.
    expect((await test.admin('DELETE', `/providers/${providerId}`)).status).toBe(409);
  });

  it('a provider configured by explicit endpoints (no discovery) connects too; one no resource names can be deleted', async () => {
    const created = await test.admin('POST', '/providers', { name: 'Plain OAuth', client_id: upstream.clientId, client_secret: upstream.clientSecret, scopes: ['api:read'],
      endpoints: { authorization_endpoint: `${upstream.issuer}/auth`, token_endpoint: `${upstream.issuer}/token`, revocation_endpoint: `${upstream.issuer}/token/revocation` } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ issuer: null, has_client_secret: true, status: 'not_connected' });
    const started = await test.admin('POST', `/providers/${created.body.id}/connect`, {});
    const url = new URL(started.body.authorization_url);
    expect(url.origin + url.pathname).toBe(`${upstream.issuer}/auth`);
    const page = await callback(await upstream.authorize(url.href));
    expect(page.status, page.html).toBe(200);
    const token = test.broker.vault.get(`provider-access-token:${created.body.id}:${ownerId}`)!.toString();
    expect(await upstream.introspect(token)).toMatchObject({ active: true });
    const deleted = await test.admin('DELETE', `/providers/${created.body.id}`);
    expect(deleted).toMatchObject({ status: 200, body: { id: created.body.id, deleted: true } });
    expect(await upstream.introspect(token)).toMatchObject({ active: false });
    expect(count(test, 'vault_items', 'id LIKE ?', `%${created.body.id}%`)).toBe(0);
    expect(count(test, 'providers', 'id = ?', created.body.id)).toBe(0);
  });
});
