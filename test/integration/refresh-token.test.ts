// The refresh token grant (issue 3 item 5, OAuth 2.1 §4.3): rotation on every use, a rotated token
// presented again revokes the family, bound to its client, scope only narrows, resource only among
// the consented ones, one winner among concurrent refreshes, ended by withdrawn consent, a disabled
// client or expiry, and all of it across a restart.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, ensureResource, pkce, registerDelegatedApp, setupOwner, TestClock, type DelegatedApp } from '../support/browser.js';
import { expectRefused } from '../support/refusals.js';
import { ROTATION_RACE_WINDOW_MS } from '../../main/core/tokens/token-families.js';

const NOTES = 'https://notes.example.test/api';
const MAIL = 'https://mail.example.test/api';
const FILES = 'https://files.example.test/api';

describe('refresh tokens', () => {
  let test: TestBroker;
  const clock = new TestClock();
  let browser: Browser;
  let app: DelegatedApp;
  let other: DelegatedApp;

  beforeAll(async () => {
    test = await startBroker({ clock });
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write'], 'Notes');
    await ensureResource(test, MAIL, ['mail:read'], 'Mail');
    await ensureResource(test, FILES, ['files:read'], 'Files');
    app = await registerDelegatedApp(test, { authMethod: 'client_secret_basic', resources: [NOTES, MAIL, FILES] });
    other = await registerDelegatedApp(test, { authMethod: 'client_secret_basic', resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  const token = (params: Record<string, string>, client: DelegatedApp = app) =>
    postForm(`${test.issuer}/oauth2/token`, params, { basic: [client.clientId, client.clientSecret!] });
  /** The authorization covers two resources, so each refresh names one (RFC 8707 §2.2); notes unless told. */
  const refresh = (refreshToken: string, extra: Record<string, string> = {}, client: DelegatedApp = app) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, resource: NOTES, ...extra }, client);
  const introspect = async (accessToken: string) => (await postForm(introspectionUrl(), { token: accessToken }, { basic: [app.clientId, app.clientSecret!] })).body;

  /** The user's authorization of notes (read, write) and mail, through the consent page; tokens for notes. */
  async function authorize(): Promise<{ access_token: string; refresh_token: string }> {
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow({
      response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
      scope: 'notes:read notes:write mail:read', resource: [NOTES, MAIL],
    });
    const result = await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: app.redirectUri, resource: NOTES });
    expect(result.status).toBe(200);
    return result.body;
  }
  const introspectionUrl = () => `${test.issuer}/oauth2/token/introspect`;

  it('every use rotates: a new refresh token replaces the old, and the access token keeps the grant', async () => {
    const first = await authorize();
    const next = await refresh(first.refresh_token);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next.body.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(next.body.access_token)).toMatchObject({ aud: NOTES, scope: 'notes:read notes:write', grant_type: 'refresh_token' });
    expect((await refresh(next.body.refresh_token)).status).toBe(200);
  });

  it('a rotated refresh token presented again revokes the family, its access tokens included', async () => {
    const first = await authorize();
    const second = (await refresh(first.refresh_token)).body;
    clock.advance(ROTATION_RACE_WINDOW_MS);
    const replay = await refresh(first.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(second.refresh_token)).body.error).toBe('invalid_grant');
    for (const accessToken of [first.access_token, second.access_token]) {
      const answer = await postForm(introspectionUrl(), { token: accessToken }, { basic: [app.clientId, app.clientSecret!] });
      expect(answer.body).toEqual({ active: false });
    }
  });

  it('of concurrent refreshes with one token, exactly one succeeds', async () => {
    const first = await authorize();
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(first.refresh_token)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.status === 400).map((result) => result.body.error)).toEqual(Array(4).fill('invalid_grant'));
    // Losing a race is not a replay: the winner's tokens go on working.
    const winner = results.find((result) => result.status === 200)!.body;
    expect(await introspect(winner.access_token)).toMatchObject({ active: true });
    expect((await refresh(winner.refresh_token)).status).toBe(200);
  });

  it('a rotated token presented again within the race window is refused but ends nothing; after it, it ends the family', async () => {
    const first = await authorize();
    const second = (await refresh(first.refresh_token)).body;
    clock.advance(ROTATION_RACE_WINDOW_MS - 500);
    await expectRefused(test, () => refresh(first.refresh_token), { status: 400, error: 'invalid_grant' });
    expect(await introspect(second.access_token)).toMatchObject({ active: true });
    clock.advance(500);
    await expectRefused(test, () => refresh(first.refresh_token), { status: 400, error: 'invalid_grant', mayChange: ['token_families', 'issued_tokens'] });
    expect(await introspect(second.access_token)).toEqual({ active: false });
  });

  it('scope may narrow for one access token; the refresh token keeps the whole grant', async () => {
    const first = await authorize();
    const narrow = await refresh(first.refresh_token, { scope: 'notes:read' });
    expect(narrow.status).toBe(200);
    expect(narrow.body.scope).toBe('notes:read');
    const full = await refresh(narrow.body.refresh_token);
    expect(full.body.scope).toBe('notes:read notes:write');
  });

  it('an authorization of several resources needs the resource named at refresh', async () => {
    const first = await authorize();
    await expectRefused(test, () => token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }), { status: 400, error: 'invalid_target' });
  });

  it('resource may switch to another resource the user consented to for this client', async () => {
    const first = await authorize();
    const mail = await refresh(first.refresh_token, { resource: MAIL });
    expect(mail.status).toBe(200);
    expect(decodeJwt(mail.body.access_token)).toMatchObject({ aud: MAIL, scope: 'mail:read' });
  });

  describe('a refusal issues nothing and leaves the token usable', () => {
    const cases: Array<[string, (refreshToken: string) => Promise<any>, number, string]> = [
      ['more scope than was granted', (rt) => refresh(rt, { scope: 'notes:read files:read' }), 400, 'invalid_scope'],
      ['a resource the user did not consent to (a dependency of the app all the same)', (rt) => refresh(rt, { resource: FILES }), 400, 'invalid_target'],
      ['an unknown resource', (rt) => refresh(rt, { resource: 'https://unknown.example.test/' }), 400, 'invalid_target'],
      ['another client', (rt) => refresh(rt, {}, other), 400, 'invalid_grant'],
      ['no refresh_token', () => token({ grant_type: 'refresh_token' }), 400, 'invalid_request'],
      ['an unknown refresh token', () => refresh(pkce().verifier.slice(0, 43)), 400, 'invalid_grant'],
      ['a wrong client secret', (rt) => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: rt }, { basic: [app.clientId, 'wrong'] }), 401, 'invalid_client'],
    ];
    it.each(cases)('%s', async (_name, send, status, error) => {
      const first = await authorize();
      await expectRefused(test, () => send(first.refresh_token), { status, error, secrets: [first.refresh_token] });
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });
  });

  it('withdrawn consent ends it: refresh refused, access tokens inactive', async () => {
    const first = await authorize();
    const consents = (await test.admin('GET', `/consents?client_id=${app.clientId}`)).body;
    expect(consents.length).toBeGreaterThan(0);
    for (const consent of consents) expect((await test.admin('POST', `/consents/${consent.id}/revoke`)).status).toBe(200);
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    expect(await introspect(first.access_token)).toEqual({ active: false });
  });

  it('revoking a refresh token (RFC 7009 §2.1) ends the family, its access tokens included', async () => {
    const first = await authorize();
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: first.refresh_token, token_type_hint: 'refresh_token' }, { basic: [app.clientId, app.clientSecret!] });
    expect(revoked.status).toBe(200);
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    expect(await introspect(first.access_token)).toEqual({ active: false });
  });

  it('another client cannot revoke a refresh token that is not its own', async () => {
    const first = await authorize();
    await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token/revoke`, { token: first.refresh_token }, { basic: [other.clientId, other.clientSecret!] }),
      { status: 400, error: 'invalid_request', secrets: [first.refresh_token] });
    expect((await refresh(first.refresh_token)).status).toBe(200);
  });

  it('a disabled client cannot refresh', async () => {
    const disabled = await registerDelegatedApp(test, { authMethod: 'none', resources: [NOTES] });
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow({ response_type: 'code', client_id: disabled.clientId, code_challenge: challenge, code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES });
    const tokens = (await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: disabled.clientId })).body;
    await test.admin('POST', `/applications/${disabled.clientId}/disable`);
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: disabled.clientId });
    expect(result.status).toBe(401);
    expect(result.body.error).toBe('invalid_client');
  });

  it('an expired refresh token is refused', async () => {
    const first = await authorize();
    clock.advance(31 * 86_400_000);
    try {
      await expectRefused(test, () => refresh(first.refresh_token), { status: 400, error: 'invalid_grant' });
    } finally {
      clock.advance(-31 * 86_400_000);
    }
  });

  it('survives a restart of the broker: rotation and reuse detection included', async () => {
    const first = await authorize();
    test = await test.restart();
    const next = await refresh(first.refresh_token);
    expect(next.status).toBe(200);
    clock.advance(ROTATION_RACE_WINDOW_MS);
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(next.body.refresh_token)).body.error).toBe('invalid_grant');
  });
});
