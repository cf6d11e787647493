// Dynamic client registration (RFC 7591, issue 3 item 7): public clients with authorization code and
// refresh only, redirect URIs under the admin's rules, unknown metadata dropped, a name shown as
// unverified, a rate limit and a cap; every refusal with the RFC 7591 §3.2.2 error, nothing changed but
// an audit row. Then what the admin can do about such clients: list, disable, delete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, postJson, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, pkce, setupOwner, TestClock } from '../support/browser.js';
import { auditSince, auditHead, expectNoCors, expectRefused, rawRequest } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';
const REDIRECT = 'http://127.0.0.1:45123/callback';
const PLENTY = { perMinute: 10_000, burst: 10_000 };

const metadata = (extra: Record<string, unknown> = {}) => ({
  redirect_uris: [REDIRECT],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'Notes agent',
  ...extra,
});

describe('dynamic client registration', () => {
  let test: TestBroker;
  const register = (body: unknown, headers: Record<string, string> = {}) => postJson(`${test.issuer}/oauth2/register`, body, headers);

  beforeAll(async () => {
    test = await startBroker({ registrationLimits: PLENTY });
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write'], 'Notes');
  });
  afterAll(() => test.close());

  it('is published in discovery', async () => {
    const discovered: any = await (await fetch(`${test.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(discovered.registration_endpoint).toBe(`${test.issuer}/oauth2/register`);
    expect(discovered.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('registers a public client: 201, a server-made client_id, the registered metadata echoed, an audit row', async () => {
    const before = auditHead(test);
    const result = await register(metadata({ redirect_uris: [REDIRECT, 'com.example.notes:/callback', 'https://agent.example.com/cb'] }));
    expect(result.status).toBe(201);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expectNoCors(result.headers);
    expect(result.body).toEqual({
      client_id: expect.stringMatching(/^app_[A-Za-z0-9_-]{22}$/),
      client_id_issued_at: expect.any(Number),
      client_name: 'Notes agent',
      redirect_uris: [REDIRECT, 'com.example.notes:/callback', 'https://agent.example.com/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'RS256',
    });
    expect(Math.abs(result.body.client_id_issued_at - Date.now() / 1000)).toBeLessThan(5);
    const app = (await test.admin('GET', `/applications/${result.body.client_id}`)).body;
    expect(app).toMatchObject({ registration: 'dynamic', client_type: 'public', auth_method: 'none', resources: [], scopes: null, enabled: true });
    const rows = auditSince(test, before);
    expect(rows.map((row) => [row.event, row.decision, row.client_id])).toEqual([['client.registered', 'allow', result.body.client_id]]);
  });

  it('defaults what RFC 7591 §2 defaults: auth method none, grant authorization_code, response type code', async () => {
    const result = await register({ redirect_uris: [REDIRECT] });
    expect(result.status).toBe(201);
    expect(result.body.id_token_signed_response_alg).toBe('RS256');
    expect((await register(metadata({ id_token_signed_response_alg: 'ES256' }))).body.id_token_signed_response_alg).toBe('ES256');
    expect(result.body).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'Unnamed application' });
  });

  it('neither stores nor echoes metadata it does not use', async () => {
    const marker = 'zz-unknown-marker-zz';
    const result = await register(metadata({
      client_uri: `https://${marker}.example/`, logo_uri: `https://${marker}.example/logo.png`, tos_uri: `https://${marker}.example/tos`,
      contacts: [`${marker}@example.com`], software_id: marker, software_statement: `${marker}.x.y`, x_custom: marker, [`${marker}`]: 1,
      scope: 'notes:read notes:write',
    }));
    expect(result.status).toBe(201);
    expect(result.text).not.toContain(marker);
    expect(Object.keys(result.body).sort()).toEqual(['client_id', 'client_id_issued_at', 'client_name', 'grant_types', 'id_token_signed_response_alg', 'redirect_uris', 'response_types', 'token_endpoint_auth_method']);
    const row = test.broker.db.prepare('SELECT * FROM applications WHERE client_id = ?').get(result.body.client_id);
    expect(JSON.stringify(row)).not.toContain(marker);
    expect(JSON.stringify(row)).not.toContain('notes:write');
    expect(count(test, 'audit_log', 'detail LIKE ? OR reason LIKE ?', `%${marker}%`, `%${marker}%`)).toBe(0);
  });

  it('the client may ask for any registered resource; the consent page says it is unverified, with its name escaped; the user decides', async () => {
    const name = '<script>alert("x")</script><img src=x onerror=alert(1)> Notes';
    const client = (await register(metadata({ client_name: name }))).body;
    const browser = new Browser(test);
    await browser.signIn();
    const { verifier, challenge } = pkce();
    const ask = () => browser.authorize({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: challenge,
      code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES, state: 's1' });
    const page = await ask();
    expect(page.status).toBe(200);
    expect(page.html).toContain('Unverified application');
    expect(page.html).not.toMatch(/<script|<img/i);
    expect(page.html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#60;img src=x onerror=alert(1)&#62; Notes');
    const answer = await browser.decide(consentForm(page.html), 'allow', { remember: true });
    const code = new URL(answer.location!).searchParams.get('code')!;
    const token = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.client_id });
    expect(token.status).toBe(200);
    expect(token.body.refresh_token).toBeDefined();
    const claims = JSON.parse(Buffer.from(token.body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ aud: NOTES, client_id: client.client_id, scope: 'notes:read', trust_level: 'none' });
    // The admin sees the consent as given to an unverified (self-registered) application.
    expect((await test.admin('GET', `/consents?client_id=${client.client_id}`)).body).toEqual([expect.objectContaining({ application: name, registration: 'dynamic' })]);
    // OAuth 2.1 §7.3.1: asked again next time, remembered or not.
    expect((await ask()).status).toBe(200);
  });

  describe('refuses, with the RFC 7591 error, and changes nothing but an audit row', () => {
    const refused = (body: unknown, error: string, status = 400, headers: Record<string, string> = {}) =>
      expectRefused(test, () => register(body, headers), { status, error });

    it.each([
      ['javascript:', 'javascript:alert(1)'],
      ['data:', 'data:text/html,<script>alert(1)</script>'],
      ['file:', 'file:///etc/passwd'],
      ['vbscript:', 'vbscript:msgbox(1)'],
      ['blob:', 'blob:http://127.0.0.1/x'],
      ['about:', 'about:blank'],
      ['http to a remote host', 'http://evil.example/callback'],
      ['a fragment', 'http://127.0.0.1:45123/callback#frag'],
      ['userinfo', 'http://user:pass@127.0.0.1:45123/callback'],
      ['a relative URI', '/callback'],
      ['a scheme that is not reverse-domain', 'myapp:/callback'],
    ])('a redirect URI with %s (invalid_redirect_uri)', async (_what, uri) => {
      const result = await refused(metadata({ redirect_uris: [REDIRECT, uri] }), 'invalid_redirect_uri');
      // The offending URI is not echoed back.
      expect(result.text).not.toContain(uri);
    });

    it('no redirect URIs, or not a list of strings (invalid_redirect_uri)', async () => {
      await refused(metadata({ redirect_uris: undefined }), 'invalid_redirect_uri');
      await refused(metadata({ redirect_uris: [] }), 'invalid_redirect_uri');
      await refused(metadata({ redirect_uris: REDIRECT }), 'invalid_redirect_uri');
      await refused(metadata({ redirect_uris: [42] }), 'invalid_redirect_uri');
    });

    it.each(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', ''])('a confidential auth method %j (invalid_client_metadata)', async (method) => {
      await refused(metadata({ token_endpoint_auth_method: method }), 'invalid_client_metadata');
    });

    it('an ID-token algorithm Latchkey does not sign with: none, HS256 (invalid_client_metadata)', async () => {
      await refused(metadata({ id_token_signed_response_alg: 'none' }), 'invalid_client_metadata');
      await refused(metadata({ id_token_signed_response_alg: 'HS256' }), 'invalid_client_metadata');
    });

    it('keys (jwks, jwks_uri) (invalid_client_metadata)', async () => {
      await refused(metadata({ jwks: { keys: [{ kty: 'EC' }] } }), 'invalid_client_metadata');
      await refused(metadata({ jwks_uri: 'https://agent.example.com/jwks' }), 'invalid_client_metadata');
    });

    it.each([
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:latchkey:params:oauth:grant-type:api-key',
      'api_key',
      'implicit',
      'password',
    ])('the grant %s (invalid_client_metadata)', async (grant) => {
      await refused(metadata({ grant_types: ['authorization_code', grant] }), 'invalid_client_metadata');
    });

    it('refresh_token without authorization_code, or no grant at all (invalid_client_metadata)', async () => {
      await refused(metadata({ grant_types: ['refresh_token'] }), 'invalid_client_metadata');
      await refused(metadata({ grant_types: [] }), 'invalid_client_metadata');
    });

    it.each([[['token']], [['code', 'token']], [['code id_token']], ['code']])('response_types %j (invalid_client_metadata)', async (types) => {
      await refused(metadata({ response_types: types }), 'invalid_client_metadata');
    });

    it.each([
      ['too long', 'x'.repeat(101)],
      ['empty', '   '],
      ['a terminal escape', 'Notes\u001b[2J agent'],
      ['a bidi override', 'Notes \u202eagent'],
      ['a zero-width space', 'Latch\u200bkey'],
      ['not a string', 42],
    ])('a client_name that is %s (invalid_client_metadata)', async (_what, name) => {
      await refused(metadata({ client_name: name }), 'invalid_client_metadata');
    });

    it('a malformed scope (invalid_client_metadata)', async () => {
      await refused(metadata({ scope: 'notes:read "quoted"' }), 'invalid_client_metadata');
      await refused(metadata({ scope: ['notes:read'] }), 'invalid_client_metadata');
    });

    it('a body that is not a JSON object: an array, null, a string (invalid_client_metadata)', async () => {
      await refused([metadata()], 'invalid_client_metadata');
      await refused('null', 'invalid_client_metadata');
      await refused('"redirect_uris"', 'invalid_client_metadata');
    });

    it('malformed JSON (400 invalid_request)', async () => {
      await refused('{"redirect_uris": [', 'invalid_request');
    });

    it('a body that is not JSON: a form, text, no content type (415)', async () => {
      await expectRefused(test, () => postForm(`${test.issuer}/oauth2/register`, { redirect_uris: REDIRECT }), { status: 415, error: 'invalid_request' });
      await refused(JSON.stringify(metadata()), 'invalid_request', 415, { 'content-type': 'text/plain' });
      await expectRefused(test, () => rawRequest(test.issuer, { method: 'POST', path: '/oauth2/register', body: JSON.stringify(metadata()) }), { status: 415, error: 'invalid_request' });
    });

    it('metadata in the query string (400)', async () => {
      await expectRefused(test, () => postJson(`${test.issuer}/oauth2/register?redirect_uris=x`, metadata()), { status: 400, error: 'invalid_request' });
    });

    it('a body over 16 KiB (413)', async () => {
      await refused(metadata({ client_uri: `https://agent.example.com/${'a'.repeat(17 * 1024)}` }), 'invalid_request', 413);
    });

    it('a foreign Origin: a web page may not register clients (403)', async () => {
      await refused(metadata(), 'forbidden', 403, { origin: 'https://evil.example' });
      await refused(metadata(), 'forbidden', 403, { origin: 'null' });
    });
  });

  describe('the admin', () => {
    it('sees dynamic clients in the application list, and a disabled one cannot be used', async () => {
      const client = (await register(metadata({ client_name: 'To disable' }))).body;
      const listed = (await test.admin('GET', '/applications')).body.find((app: { client_id: string }) => app.client_id === client.client_id);
      expect(listed).toMatchObject({ name: 'To disable', registration: 'dynamic' });
      expect((await test.admin('POST', `/applications/${client.client_id}/disable`)).status).toBe(200);
      const browser = new Browser(test);
      await browser.signIn();
      const page = await browser.authorize({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(page.status).toBe(400);
      expect(page.location).toBeNull();
    });

    it('deletes one: its consent withdrawn, its tokens revoked, its rows gone, the audit log kept', async () => {
      const client = (await register(metadata({ client_name: 'To delete' }))).body;
      const browser = new Browser(test);
      await browser.signIn();
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: challenge,
        code_challenge_method: 'S256', scope: 'notes:read openid', resource: NOTES });
      const tokens = (await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.client_id })).body;
      expect(tokens.refresh_token).toBeDefined();
      const rowsBefore = count(test, 'audit_log', 'client_id = ?', client.client_id);

      const deleted = await test.admin('DELETE', `/applications/${client.client_id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ client_id: client.client_id, deleted: true, registration: 'dynamic', consents_withdrawn: 1, access_tokens_revoked: 1 });

      expect(count(test, 'applications', 'client_id = ?', client.client_id)).toBe(0);
      for (const table of ['consents', 'token_families', 'authorization_codes', 'authorization_requests']) expect(count(test, table, 'client_id = ?', client.client_id)).toBe(0);
      // The access token's record stays, revoked, so introspection can say so; the audit log keeps everything and says what happened.
      expect(count(test, 'issued_tokens', 'client_id = ? AND revoked_at IS NOT NULL', client.client_id)).toBe(1);
      expect(count(test, 'audit_log', 'client_id = ?', client.client_id)).toBeGreaterThan(rowsBefore);
      expect(count(test, 'audit_log', "client_id = ? AND event = 'admin.application_deleted'", client.client_id)).toBe(1);
      expect((await test.admin('GET', '/audit/verify')).body.ok).toBe(true);

      const userinfo = await fetch(`${test.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(userinfo.status).toBe(401);
      const refresh = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
      expect(refresh.status).toBe(401);
      expect(refresh.body.error).toBe('invalid_client');
      expect((await test.admin('DELETE', `/applications/${client.client_id}`)).status).toBe(404);
    });
  });
});

describe('dynamic client registration limits', () => {
  it('is rate-limited per broker: a burst of 5, then 10 a minute; 429 with Retry-After, audited, nothing written', async () => {
    const clock = new TestClock();
    const test = await startBroker({ clock });
    try {
      const register = () => postJson(`${test.issuer}/oauth2/register`, metadata());
      for (let i = 0; i < 5; i++) expect((await register()).status).toBe(201);
      const limited = await expectRefused(test, register, { status: 429, error: 'temporarily_unavailable' });
      expect(limited.headers.get('retry-after')).toBe('6');
      clock.advance(6_000);
      expect((await register()).status).toBe(201);
      expect((await register()).status).toBe(429);
    } finally {
      await test.close();
    }
  });

  it('caps how many dynamic clients may exist; deleting one makes room', async () => {
    const test = await startBroker({ registrationLimits: { ...PLENTY, maxClients: 2 } });
    try {
      const register = () => postJson(`${test.issuer}/oauth2/register`, metadata());
      const first = (await register()).body;
      expect((await register()).status).toBe(201);
      await expectRefused(test, register, { status: 403, error: 'access_denied' });
      expect((await test.admin('DELETE', `/applications/${first.client_id}`)).status).toBe(200);
      expect((await register()).status).toBe(201);
    } finally {
      await test.close();
    }
  });
});
