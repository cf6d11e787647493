// Authorization code + PKCE (OAuth 2.1 §4.1, RFC 7636, RFC 9207, RFC 8707) against a real broker:
// the test plays the browser, then redeems the code at the token endpoint as the client would.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, ensureResource, pkce, registerDelegatedApp, setupOwner, TestClock, type DelegatedApp } from '../support/browser.js';
import { expectFrontChannelRefused, expectRefused, snapshot } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';
const MAIL = 'https://mail.example.test/api';

describe('authorization code with PKCE', () => {
  let test: TestBroker;
  const clock = new TestClock();
  let browser: Browser;
  let userId: string;
  let app: DelegatedApp;

  beforeAll(async () => {
    test = await startBroker({ clock });
    userId = await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write'], 'Notes');
    await ensureResource(test, MAIL, ['mail:read'], 'Mail');
    app = await registerDelegatedApp(test, { resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  const request = (challenge: string, extra: Record<string, string | string[] | undefined> = {}) => ({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
    scope: 'notes:read', resource: NOTES, state: 'st-1', ...extra,
  });
  const redeem = (code: string, verifier: string, extra: Record<string, string> = {}, clientId = app.clientId) =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: app.redirectUri, client_id: clientId, ...extra });

  it('issues a code with state and iss, and the code buys an audience-bound token for the user', async () => {
    const { verifier, challenge } = pkce();
    const { code, location } = await browser.authorizeAndAllow(request(challenge));
    expect(location.origin + location.pathname).toBe(app.redirectUri);
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.get('iss')).toBe(test.issuer);

    const result = await redeem(code, verifier);
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.body).toMatchObject({ token_type: 'Bearer', scope: 'notes:read', refresh_token: expect.any(String) });
    expect(result.body.id_token).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${test.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(result.body.access_token, jwks, { issuer: test.issuer, audience: NOTES, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: userId, client_id: app.clientId, scope: 'notes:read', grant_type: 'authorization_code', trust_level: 'none' });
    expect(count(test, 'issued_tokens', 'jti = ? AND user_id = ? AND family_id IS NOT NULL', payload.jti, userId)).toBe(1);
    expect(count(test, 'audit_log', "event = 'token.issued' AND jti = ?", payload.jti)).toBe(1);
    // Stored hashed only: neither the code nor the refresh token is anywhere in the database.
    const dump = JSON.stringify(snapshot(test));
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(result.body.refresh_token);
  });

  it('with openid, also issues an RS256 ID token with nonce, auth_time and azp; without a resource the token is for userinfo', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow(request(challenge, { scope: 'openid profile', resource: undefined, nonce: 'n-0S6_WzA2Mj' }));
    const result = await redeem(code, verifier);
    expect(result.status).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${test.issuer}/.well-known/jwks.json`));
    const id = await jwtVerify(result.body.id_token, jwks, { issuer: test.issuer, audience: app.clientId, algorithms: ['RS256'] });
    expect(id.payload).toMatchObject({ sub: userId, azp: app.clientId, nonce: 'n-0S6_WzA2Mj', auth_time: expect.any(Number) });
    const access = await jwtVerify(result.body.access_token, jwks, { issuer: test.issuer, audience: test.issuer, typ: 'at+jwt' });
    expect(access.payload.scope).toBe('openid profile');
  });

  it('a loopback redirect URI may come back on another port (RFC 8252 §7.3), and the code is bound to that URI', async () => {
    const { verifier, challenge } = pkce();
    const otherPort = app.redirectUri.replace(/:(\d+)\//, ':5999/');
    const { code, location } = await browser.authorizeAndAllow(request(challenge, { redirect_uri: otherPort }));
    expect(location.port).toBe('5999');
    await expectRefused(test, () => redeem(code, verifier), { status: 400, error: 'invalid_grant' });
    expect((await redeem(code, verifier, { redirect_uri: otherPort })).status).toBe(200);
  });

  describe('an unregistered or altered redirect URI shows an error page and never redirects', () => {
    const variants: Array<[string, (registered: string) => string]> = [
      ['unregistered', () => 'https://evil.example/callback'],
      ['another case', (uri) => uri.replace('/callback', '/Callback')],
      ['another path', (uri) => `${uri}/extra`],
      ['a query added', (uri) => `${uri}?x=1`],
      ['a fragment', (uri) => `${uri}#frag`],
      ['encoded traversal', (uri) => uri.replace('/callback', '/callback/..%2F..%2Fevil')],
      ['dot segments', (uri) => uri.replace('/callback', '/x/../callback')],
      ['userinfo', (uri) => uri.replace('http://', 'http://user@')],
      ['localhost instead of 127.0.0.1', (uri) => uri.replace('127.0.0.1', 'localhost')],
      ['[::1] instead of 127.0.0.1', (uri) => uri.replace('127.0.0.1', '[::1]')],
      ['127.1', (uri) => uri.replace('127.0.0.1', '127.1')],
      ['a decimal IP', (uri) => uri.replace('127.0.0.1', '2130706433')],
      ['https instead of http', (uri) => uri.replace('http://', 'https://')],
      ['a trailing slash', (uri) => `${uri}/`],
    ];
    it.each(variants)('%s', async (_name, alter) => {
      const { challenge } = pkce();
      await expectFrontChannelRefused(test, () => browser.authorize(request(challenge, { redirect_uri: alter(app.redirectUri) })), { shown: 400 });
    });

    it('an unknown client', async () => {
      const { challenge } = pkce();
      await expectFrontChannelRefused(test, () => browser.authorize(request(challenge, { client_id: 'app_nobody' })), { shown: 400 });
    });

    it('no redirect_uri while several are registered', async () => {
      const two = await registerDelegatedApp(test, { resources: [NOTES], redirectUris: ['http://127.0.0.1:41001/a', 'http://127.0.0.1:41001/b'] });
      const { challenge } = pkce();
      await expectFrontChannelRefused(test, () => browser.authorize({ ...request(challenge), client_id: two.clientId, redirect_uri: undefined }), { shown: 400 });
    });
  });

  describe('other bad requests redirect with error, state and iss', () => {
    const cases: Array<[string, (challenge: string) => Record<string, string | string[] | undefined>, string]> = [
      ['missing PKCE', () => ({ code_challenge: undefined, code_challenge_method: undefined }), 'invalid_request'],
      ['code_challenge_method=plain', (challenge) => ({ code_challenge: challenge, code_challenge_method: 'plain' }), 'invalid_request'],
      ['no code_challenge_method (plain by default)', () => ({ code_challenge_method: undefined }), 'invalid_request'],
      ['a malformed challenge', () => ({ code_challenge: 'too-short' }), 'invalid_request'],
      ['a method without a challenge', () => ({ code_challenge: undefined }), 'invalid_request'],
      ['response_type=token', () => ({ response_type: 'token' }), 'unsupported_response_type'],
      ['no response_type', () => ({ response_type: undefined }), 'invalid_request'],
      ['a scope of no requested resource', () => ({ scope: 'mail:read' }), 'invalid_scope'],
      ['a resource that is not a dependency', () => ({ resource: MAIL, scope: 'mail:read' }), 'invalid_target'],
      ['an unknown resource', () => ({ resource: 'https://unknown.example.test/' }), 'invalid_target'],
      ['a resource with a fragment', () => ({ resource: `${NOTES}#x` }), 'invalid_target'],
      ['a duplicated parameter', () => ({ scope: ['notes:read', 'notes:write'] }), 'invalid_request'],
      ['prompt=none with another value', () => ({ prompt: 'none consent' }), 'invalid_request'],
    ];
    it.each(cases)('%s', async (_name, change, error) => {
      const { challenge } = pkce();
      await expectFrontChannelRefused(test, () => browser.authorize({ ...request(challenge), ...change(challenge) }),
        { redirect: { to: app.redirectUri, error, state: 'st-1', iss: test.issuer } });
    });
  });

  describe('redeeming a code', () => {
    it('a code presented again fails and revokes what it issued', async () => {
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow(request(challenge));
      const first = await redeem(code, verifier);
      expect(first.status).toBe(200);
      const again = await redeem(code, verifier);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      expect(count(test, 'issued_tokens', 'family_id IS NOT NULL AND revoked_at IS NULL AND family_id = (SELECT family_id FROM authorization_codes WHERE redeemed_at IS NOT NULL ORDER BY redeemed_at DESC LIMIT 1)')).toBe(0);
      const refreshed = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: app.clientId });
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    it('an expired code (over 60 s) is refused', async () => {
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow(request(challenge));
      clock.advance(61_000);
      try {
        await expectRefused(test, () => redeem(code, verifier), { status: 400, error: 'invalid_grant', secrets: [code, verifier] });
      } finally {
        clock.advance(-61_000);
      }
    });

    it('a code redeemed by another client is refused and stays usable by its own', async () => {
      const other = await registerDelegatedApp(test, { resources: [NOTES], redirectUris: [app.redirectUri] });
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow(request(challenge));
      await expectRefused(test, () => redeem(code, verifier, {}, other.clientId), { status: 400, error: 'invalid_grant', secrets: [code] });
      expect((await redeem(code, verifier)).status).toBe(200);
    });

    const bad: Array<[string, (verifier: string) => Record<string, string>, string]> = [
      ['another redirect URI', () => ({ redirect_uri: 'http://127.0.0.1:1/other' }), 'invalid_grant'],
      ['a wrong verifier', () => ({ code_verifier: pkce().verifier }), 'invalid_grant'],
      ['a malformed verifier', () => ({ code_verifier: 'short' }), 'invalid_grant'],
      ['no verifier', () => ({ code_verifier: '' }), 'invalid_request'],
      ['a resource outside the authorization', () => ({ resource: MAIL }), 'invalid_target'],
    ];
    it.each(bad)('%s is refused and leaves the code usable', async (_name, change, error) => {
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow(request(challenge));
      await expectRefused(test, () => redeem(code, verifier, change(verifier)), { status: 400, error, secrets: [code, verifier] });
      expect((await redeem(code, verifier)).status).toBe(200);
    });

    it('an unknown code is refused', async () => {
      await expectRefused(test, () => redeem('A'.repeat(43), pkce().verifier), { status: 400, error: 'invalid_grant' });
    });
  });

  it('discovery names the authorization and userinfo endpoints, code only, S256 only, and iss in responses', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata: any = await (await fetch(`${test.issuer}${path}`)).json();
      expect(metadata).toMatchObject({
        authorization_endpoint: `${test.issuer}/oauth2/authorize`,
        userinfo_endpoint: `${test.issuer}/oauth2/userinfo`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        subject_types_supported: ['public'],
        scopes_supported: expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']),
        claims_supported: expect.arrayContaining(['sub', 'name', 'email', 'email_verified', 'auth_time', 'nonce']),
      });
      expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    }
  });
});
