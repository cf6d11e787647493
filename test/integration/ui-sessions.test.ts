// UI sessions and one-time login links (issue 3 item 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, pkce, registerDelegatedApp, setupOwner, TestClock, type DelegatedApp } from '../support/browser.js';
import { snapshot } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';

describe('UI sessions and login links', () => {
  let test: TestBroker;
  const clock = new TestClock();
  let app: DelegatedApp;

  beforeAll(async () => {
    test = await startBroker({ clock });
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read']);
    app = await registerDelegatedApp(test, { resources: [NOTES] });
  });
  afterAll(() => test.close());

  const authorizePath = () => `/oauth2/authorize?${new URLSearchParams({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: pkce().challenge,
    code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES, state: 's',
  })}`;

  it('a login link opens a session in an HttpOnly, SameSite=Lax cookie for this origin only', async () => {
    const link = await test.admin('POST', '/login-links', {});
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(new RegExp(`^${test.issuer}/ui/login\\?token=[A-Za-z0-9_-]{43}$`));
    const response = await fetch(link.body.url, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^latchkey_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toMatch(/Domain=/i);
    // Stored hashed only: neither the link's secret nor the session id is in the database.
    const dump = JSON.stringify([...snapshot(test).tables.values()]);
    expect(dump).not.toContain(new URL(link.body.url).searchParams.get('token'));
    expect(dump).not.toContain(cookie.split(';')[0]!.split('=')[1]);
  });

  it('a login link works once', async () => {
    const link = (await test.admin('POST', '/login-links', {})).body.url;
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(303);
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('a login link expires in minutes', async () => {
    const link = (await test.admin('POST', '/login-links', {})).body.url;
    clock.advance(6 * 60_000);
    try {
      const sessions = count(test, 'ui_sessions');
      const response = await fetch(link, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(count(test, 'ui_sessions')).toBe(sessions);
    } finally {
      clock.advance(-6 * 60_000);
    }
  });

  it('without a session the authorization page says how to sign in, and the link brings the browser back to the same request', async () => {
    const browser = new Browser(test);
    const path = authorizePath();
    const page = await browser.open(`${test.issuer}${path}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('latchkey login-url --next');
    expect(page.html).not.toMatch(/<form/);
    const signedIn = await browser.signIn(path);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe(`${test.issuer}${path}`);
    const consent = await browser.open(signedIn.location!);
    expect(consent.status).toBe(200);
    expect(consentForm(consent.html).decisions).toEqual(['allow', 'deny']);
  });

  describe('next may only lead to this broker\'s authorization endpoint (no open redirect)', () => {
    const unsafe = ['https://evil.example/', '//evil.example/oauth2/authorize', '/ui/../oauth2/authorize', '/oauth2/authorize/../../evil',
      '/\\evil.example', '/oauth2/authorizex', 'javascript:alert(1)', '/oauth2/authorize?x=1\r\nSet-Cookie: a=b'];
    it.each(unsafe)('%s is refused by the admin API', async (next) => {
      const links = count(test, 'login_links');
      const result = await test.admin('POST', '/login-links', { next });
      expect(result.status).toBe(400);
      expect(count(test, 'login_links')).toBe(links);
    });
    it.each(unsafe)('%s added to a link is refused when opened, and the link stays unspent', async (next) => {
      const link = (await test.admin('POST', '/login-links', {})).body.url;
      const response = await fetch(`${link}&next=${encodeURIComponent(next)}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect((await fetch(link, { redirect: 'manual' })).status).toBe(303);
    });
  });

  it('a session cookie that was never issued is no session', async () => {
    const browser = new Browser(test);
    browser.cookie = `latchkey_session=${pkce().verifier}`;
    const page = await browser.open(`${test.issuer}${authorizePath()}`);
    expect(page.html).toContain('latchkey login-url');
  });
});
