// The consent page at /oauth2/authorize (issue 3 item 2): server-rendered, no script, escaped, framing
// refused, a CSRF token bound to the transaction and the session, a 303 after the decision, remembered
// consent, prompt=none and prompt=consent, dynamically registered clients always asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postJson, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { auditSince, expectFrontChannelRefused, expectUnchanged, snapshot } from '../support/refusals.js';

const NOTES = 'https://notes.example.test/api';

describe('the consent page', () => {
  let test: TestBroker;
  let browser: Browser;
  let app: DelegatedApp;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write', '<b>bold</b>'], 'Notes <i>API</i>');
    app = await registerDelegatedApp(test, { name: '<script>alert(1)</script> Agent', resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  const request = (extra: Record<string, string | undefined> = {}) => ({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: pkce().challenge,
    code_challenge_method: 'S256', scope: 'notes:read openid', resource: NOTES, state: 'xyz', ...extra,
  });

  it('is plain HTML with a form, no script, every value escaped, and the headers that forbid framing and caching', async () => {
    const page = await browser.authorize(request({ scope: 'notes:read <b>bold</b>', state: '"><script>alert(2)</script>' }));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toContain("default-src 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.html).not.toMatch(/<script/i);
    expect(page.html).not.toContain('<b>bold</b>');
    expect(page.html).not.toContain('<i>API</i>');
    expect(page.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; Agent');
    expect(page.html).toContain('&#60;b&#62;bold&#60;/b&#62;');
    expect(page.html).not.toContain('alert(2)');
    expect(page.html).toContain('Registered by your Latchkey admin');
    expect(page.html).toContain(new URL(app.redirectUri).host);
    expect(page.html).toContain(NOTES);
    const form = consentForm(page.html);
    expect(form.decisions).toEqual(['allow', 'deny']);
    expect(form.hasRemember).toBe(true);
    expect(Object.keys(form.fields).sort()).toEqual(['csrf', 'transaction']);
  });

  it('allow answers 303 to the redirect URI with code, state and iss', async () => {
    const form = consentForm((await browser.authorize(request())).html);
    const answer = await browser.decide(form, 'allow');
    expect(answer.status).toBe(303);
    const location = new URL(answer.location!);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('iss')).toBe(test.issuer);
  });

  it('deny answers 303 with access_denied, state and iss, and records no consent', async () => {
    const consents = count(test, 'consents');
    const form = consentForm((await browser.authorize(request())).html);
    const answer = await browser.decide(form, 'deny');
    expect(answer.status).toBe(303);
    const location = new URL(answer.location!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'access_denied', state: 'xyz', iss: test.issuer });
    expect(location.searchParams.get('code')).toBeNull();
    expect(count(test, 'consents')).toBe(consents);
  });

  describe('a decision that must be refused changes nothing', () => {
    it('without a CSRF token', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      await expectFrontChannelRefused(test, () => browser.decide(form, 'allow', { omit: ['csrf'] }), { shown: 403 });
    });
    it('with a wrong CSRF token', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      await expectFrontChannelRefused(test, () => browser.decide({ ...form, fields: { ...form.fields, csrf: pkce().verifier } }, 'allow'), { shown: 403 });
    });
    it('with a reused CSRF token (the form posted twice)', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      expect((await browser.decide(form, 'allow')).status).toBe(303);
      await expectFrontChannelRefused(test, () => browser.decide(form, 'allow'), { shown: 400 });
    });
    it('from a foreign Origin', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      const before = snapshot(test);
      const answer = await browser.decide(form, 'allow', { origin: 'https://evil.example' });
      expect(answer.status).toBe(403);
      expect(answer.location).toBeNull();
      expectUnchanged(test, before);
      expect(auditSince(test, before.auditHead).map((row) => [row.event, row.decision])).toEqual([['authorization.refused', 'deny']]);
      // The form itself was not spent: the real page can still be answered.
      expect((await browser.decide(form, 'allow')).status).toBe(303);
    });
    it('from Origin: null (a sandboxed or opaque page)', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      expect((await browser.decide(form, 'allow', { origin: 'null' })).status).toBe(403);
    });
    it('with a tampered scope (a field the form does not have)', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      await expectFrontChannelRefused(test, () => browser.decide(form, 'allow', { extra: { scope: 'notes:write' } }), { shown: 400 });
    });
    it('with a decision that is neither allow nor deny', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      await expectFrontChannelRefused(test, () => browser.decide(form, 'maybe'), { shown: 400 });
    });
    it('approved from another session', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      const other = new Browser(test);
      await other.signIn();
      await expectFrontChannelRefused(test, () => other.decide(form, 'allow'), { shown: 403 });
    });
    it('without any session', async () => {
      const form = consentForm((await browser.authorize(request())).html);
      await expectFrontChannelRefused(test, () => browser.decide(form, 'allow', { cookie: null }), { shown: 403 });
    });
  });

  it('remembers a decision for the same application, user, resources and scopes; prompt=consent asks again', async () => {
    // A confidential client answered at an https redirect URI: the remembered consent issues at once.
    const verified = await registerDelegatedApp(test, { name: 'Verified web app', resources: [NOTES], authMethod: 'client_secret_basic', redirectUris: ['https://app.example.test/callback'] });
    const ask = (extra: Record<string, string> = {}) => browser.authorize({ ...request({ scope: 'notes:write', ...extra }), client_id: verified.clientId, redirect_uri: verified.redirectUri });
    const first = await ask();
    expect(first.status).toBe(200);
    expect((await browser.decide(consentForm(first.html), 'allow', { remember: true })).status).toBe(303);
    const again = await ask();
    expect(again.status).toBe(303);
    expect(new URL(again.location!).searchParams.get('code')).toBeTruthy();
    // More than was consented to is asked again.
    expect((await ask({ scope: 'notes:write notes:read' })).status).toBe(200);
    expect((await ask({ prompt: 'consent' })).status).toBe(200);
    // prompt=none with a remembered consent answers at once.
    const silent = await ask({ prompt: 'none' });
    expect(new URL(silent.location!).searchParams.get('code')).toBeTruthy();
  });

  it('a remembered consent never gives an unverifiable client (public, loopback redirect) a silent code: one click continues, prompt=none is consent_required', async () => {
    const scoped = request({ scope: 'notes:write' });
    expect((await browser.decide(consentForm((await browser.authorize(scoped)).html), 'allow', { remember: true })).status).toBe(303);
    // RFC 8252 §8.6: any local process can listen on the loopback port, so the user's click is needed each time.
    const again = await browser.authorize(request({ scope: 'notes:write' }));
    expect(again.status).toBe(200);
    expect(again.html).toContain('Continue to');
    const form = consentForm(again.html);
    expect(form.decisions).toEqual(['allow', 'deny']);
    expect(form.hasRemember).toBe(false);
    const consents = () => test.broker.db.prepare('SELECT COUNT(*) AS n FROM consents WHERE client_id = ?').get(app.clientId);
    const before = consents();
    const continued = await browser.decide(form, 'allow');
    expect(new URL(continued.location!).searchParams.get('code')).toBeTruthy();
    // Continuing is the same consent, not another one.
    expect(consents()).toEqual(before);
    await expectFrontChannelRefused(test, () => browser.authorize(request({ scope: 'notes:write', prompt: 'none' })),
      { redirect: { to: app.redirectUri, error: 'consent_required', state: 'xyz', iss: test.issuer } });
  });

  it('a decision not remembered is asked again', async () => {
    const scoped = request({ scope: 'openid' });
    expect((await browser.decide(consentForm((await browser.authorize(scoped)).html), 'allow')).status).toBe(303);
    expect((await browser.authorize(request({ scope: 'openid' }))).status).toBe(200);
  });

  it('prompt=none without consent answers consent_required; without a session login_required', async () => {
    await expectFrontChannelRefused(test, () => browser.authorize(request({ scope: 'notes:read notes:write', prompt: 'none' })),
      { redirect: { to: app.redirectUri, error: 'consent_required', state: 'xyz', iss: test.issuer } });
    await expectFrontChannelRefused(test, () => new Browser(test).authorize(request({ prompt: 'none' })),
      { redirect: { to: app.redirectUri, error: 'login_required', state: 'xyz', iss: test.issuer } });
  });

  it('a dynamically registered client is shown as unverified and always asked, even when remembered', async () => {
    // Registered through RFC 7591 (issue 3 item 7): no dependencies of its own, the user decides.
    const registered = await postJson(`${test.issuer}/oauth2/register`, { client_name: 'Self-registered', redirect_uris: ['http://127.0.0.1:47000/cb'], grant_types: ['authorization_code', 'refresh_token'] });
    const dynamic = { clientId: registered.body.client_id as string, redirectUri: 'http://127.0.0.1:47000/cb' };
    const ask = () => browser.authorize({ ...request({ scope: 'notes:read' }), client_id: dynamic.clientId, redirect_uri: dynamic.redirectUri });
    const first = await ask();
    expect(first.status).toBe(200);
    expect(first.html).toContain('Unverified application');
    expect((await browser.decide(consentForm(first.html), 'allow', { remember: true })).status).toBe(303);
    expect((await ask()).status).toBe(200);
  });
});
