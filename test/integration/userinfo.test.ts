// The UserInfo endpoint (issue 3 item 6, OIDC Core §5.3): claims by scope, Bearer only, RFC 6750 errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, ensureResource, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { auditHead, auditSince, expectNoCors } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';

describe('userinfo', () => {
  let test: TestBroker;
  let browser: Browser;
  let app: DelegatedApp;
  let userId: string;

  beforeAll(async () => {
    test = await startBroker();
    userId = await setupOwner(test, 'Ada Lovelace', 'ada@example.com');
    await ensureResource(test, NOTES, ['notes:read']);
    app = await registerDelegatedApp(test, { resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  async function accessToken(scope: string, resource?: string): Promise<string> {
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow({ response_type: 'code', client_id: app.clientId, code_challenge: challenge, code_challenge_method: 'S256', scope, resource });
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: app.clientId });
    expect(result.status).toBe(200);
    return result.body.access_token;
  }
  const get = (authorization?: string, path = '/oauth2/userinfo') => fetch(`${test.issuer}${path}`, { headers: authorization ? { authorization } : {} });

  it.each([
    ['openid', { sub: 'USER' }],
    ['openid profile', { sub: 'USER', name: 'Ada Lovelace' }],
    ['openid email', { sub: 'USER', email: 'ada@example.com', email_verified: false }],
    ['openid profile email', { sub: 'USER', name: 'Ada Lovelace', email: 'ada@example.com', email_verified: false }],
  ])('scope %s gives its claims, by GET and by POST', async (scope, expected) => {
    const token = await accessToken(scope);
    const want = { ...expected, sub: userId };
    const byGet = await get(`Bearer ${token}`);
    expect(byGet.status).toBe(200);
    expect(byGet.headers.get('cache-control')).toBe('no-store');
    expect(await byGet.json()).toEqual(want);
    const byPost = await fetch(`${test.issuer}/oauth2/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await byPost.json()).toEqual(want);
  });

  async function expectChallenge(response: Response, status: number, error: string | null) {
    expect(response.status).toBe(status);
    const challenge = response.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer realm="latchkey"/);
    if (error) expect(challenge).toContain(`error="${error}"`);
    else expect(challenge).not.toContain('error=');
    expectNoCors(response.headers);
  }

  it('without a token: 401 with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const head = auditHead(test);
    await expectChallenge(await get(), 401, null);
    expect(auditSince(test, head).map((row) => row.decision)).toEqual(['deny']);
  });

  it('a malformed or forged token: 401 invalid_token', async () => {
    await expectChallenge(await get('Bearer not-a-jwt!'), 401, 'invalid_token');
    const token = await accessToken('openid');
    await expectChallenge(await get(`Bearer ${token.slice(0, -4)}AAAA`), 401, 'invalid_token');
  });

  it('a token for a resource, not for Latchkey: 401 invalid_token', async () => {
    await expectChallenge(await get(`Bearer ${await accessToken('openid notes:read', NOTES)}`), 401, 'invalid_token');
  });

  it('a token without openid: 403 insufficient_scope', async () => {
    await expectChallenge(await get(`Bearer ${await accessToken('profile')}`), 403, 'insufficient_scope');
  });

  it('a revoked token: 401 invalid_token', async () => {
    const token = await accessToken('openid');
    expect((await postForm(`${test.issuer}/oauth2/token/revoke`, { token, client_id: app.clientId })).status).toBe(200);
    await expectChallenge(await get(`Bearer ${token}`), 401, 'invalid_token');
  });

  it('a token in the query string is refused (RFC 6750 §2.3)', async () => {
    const token = await accessToken('openid');
    const before = count(test, 'issued_tokens');
    await expectChallenge(await get(undefined, `/oauth2/userinfo?access_token=${token}`), 400, 'invalid_request');
    expect(count(test, 'issued_tokens')).toBe(before);
  });
});
