// Owner presence (issue 12 §1): tightening is free, loosening needs the owner. Once the owner has set a
// passphrase, an agent holding the admin token (it can read the data dir) can pause, revoke and lock, but not
// approve, resume, widen or unlock: that takes a presence proof only the owner's typing gives.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRESENCE_HEADER } from '../../shared/admin-api.js';
import { removeDataDir, startBroker, type HttpResult, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, pkce, registerDelegatedApp, setupOwner, TestClock } from '../support/browser.js';
import { auditHead, auditSince, expectRefused } from '../support/refusals.js';

const PASSPHRASE = 'velvet-orbit-canyon-2931';

describe('owner presence', () => {
  let test: TestBroker;
  let clock: TestClock;

  beforeEach(async () => {
    clock = new TestClock();
    test = await startBroker({ clock });
    await setupOwner(test);
  });
  afterEach(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  /** The admin API with the admin token, and a presence token when one is given (what the CLI sends). */
  async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, presenceToken?: string): Promise<HttpResult> {
    const response = await fetch(`${test.issuer}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${test.broker.adminToken}`,
        ...(presenceToken ? { [PRESENCE_HEADER]: presenceToken } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, text };
  }

  const setPassphrase = async () => expect((await call('POST', '/owner/passphrase', { passphrase: PASSPHRASE })).status).toBe(200);
  const prove = async (passphrase = PASSPHRASE) => call('POST', '/owner/presence', { passphrase });
  const newApp = (name = 'Agent') => ({ name, identity_type: 'agent' });

  it('without an owner passphrase, loosening works with the admin token as before, and the status says none is set', async () => {
    expect((await call('GET', '/owner')).body).toMatchObject({ passphrase_set: false, failed_attempts: 0 });
    expect((await call('POST', '/applications', newApp())).status).toBe(201);
  });

  it('the first passphrase needs no proof (the one-time window) and is audited as such; changing it needs the current one', async () => {
    const head = auditHead(test);
    await setPassphrase();
    expect(auditSince(test, head).map((row) => row.event)).toEqual(['owner.passphrase_set']);
    expect((await call('GET', '/owner')).body).toMatchObject({ passphrase_set: true });
    const next = 'lantern-quarry-mosaic-7714';
    expect((await call('POST', '/owner/passphrase', { passphrase: next })).body.error).toBe('invalid_request');
    expect((await call('POST', '/owner/passphrase', { passphrase: next, current_passphrase: 'not-the-current-one-9981' })).body.error).toBe('wrong_passphrase');
    expect((await call('POST', '/owner/passphrase', { passphrase: next, current_passphrase: PASSPHRASE })).status).toBe(200);
    expect((await prove(PASSPHRASE)).body.error).toBe('wrong_passphrase');
    expect((await prove(next)).status).toBe(200);
  });

  it('a weak passphrase is refused with the reason, and nothing is stored', async () => {
    const weak = await expectRefused(test, () => call('POST', '/owner/passphrase', { passphrase: 'password123' }), { status: 400, error: 'weak_passphrase', audited: false });
    expect(weak.body.error_description).toMatch(/too easy to guess/);
    expect((await call('GET', '/owner')).body.passphrase_set).toBe(false);
    // Empty and over-long ones are refused by the request's shape.
    expect((await call('POST', '/owner/passphrase', { passphrase: '' })).status).toBe(400);
    expect((await call('POST', '/owner/passphrase', { passphrase: 'x'.repeat(1025) })).status).toBe(400);
  });

  it('an agent with only the admin token cannot loosen: owner_presence_required, nothing changes, the attempt is audited', async () => {
    await setPassphrase();
    await call('POST', '/agents/pause', { paused: true });
    const loosening: Array<[string, () => Promise<HttpResult>]> = [
      ['create an application', () => call('POST', '/applications', newApp())],
      ['resume paused agents', () => call('POST', '/agents/pause', { paused: false })],
      ['add a policy', () => call('POST', '/policies', { text: 'permit (principal, action, resource);' })],
      ['unlock the vault', () => call('POST', '/vault/unlock', {})],
      ['rotate the signing key', () => call('POST', '/keys/rotate')],
      ['export the audit log', () => call('GET', '/audit/export?format=jsonl')],
      ['create a resource', () => call('POST', '/resources', { name: 'Mail', identifier: 'https://mail.example.test/', scopes: ['read'] })],
    ];
    for (const [what, send] of loosening) {
      const refused = await expectRefused(test, send, { status: 403, error: 'owner_presence_required' });
      expect(refused.body.error, what).toBe('owner_presence_required');
    }
    expect(test.broker.agentPause.paused).toBe(true);
  });

  it('tightening stays free with the admin token: pause, disable, narrow, lock', async () => {
    const app = await call('POST', '/applications', newApp());
    await setPassphrase();
    expect((await call('POST', '/agents/pause', { paused: true })).status).toBe(200);
    expect((await call('POST', `/applications/${app.body.client_id}/disable`)).status).toBe(200);
    expect((await call('PATCH', `/applications/${app.body.client_id}`, { consent_mode: 'explicit', allow_impersonation: false })).status).toBe(200);
    expect((await call('POST', '/vault/lock')).status).toBe(200);
    // Widening the same application is not.
    expect((await call('PATCH', `/applications/${app.body.client_id}`, { allow_impersonation: true })).body.error).toBe('owner_presence_required');
    expect((await call('POST', `/applications/${app.body.client_id}/enable`)).body.error).toBe('owner_presence_required');
  });

  it('the owner\'s typed passphrase gives one command a presence token; with it the loosening goes through', async () => {
    await setPassphrase();
    await call('POST', '/agents/pause', { paused: true });
    const proof = await prove();
    expect(proof.status).toBe(200);
    expect(proof.body.presence_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await call('POST', '/agents/pause', { paused: false }, proof.body.presence_token)).status).toBe(200);
    expect(test.broker.agentPause.paused).toBe(false);
    expect((await call('POST', '/applications', newApp(), proof.body.presence_token)).status).toBe(201);
    const events = (test.broker.db.prepare("SELECT event, detail FROM audit_log WHERE event LIKE 'owner.%'").all() as Array<{ event: string; detail: string }>);
    expect(events.map((row) => row.event)).toEqual(['owner.passphrase_set', 'owner.presence_proven']);
    // The passphrase is in no row.
    expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM audit_log').all())).not.toContain(PASSPHRASE);
  });

  it('a made-up, expired or stale presence token proves nothing', async () => {
    await setPassphrase();
    expect((await call('POST', '/applications', newApp(), 'A'.repeat(43))).body.error).toBe('owner_presence_required');
    const proof = await prove();
    clock.advance(3 * 60_000);
    expect((await call('POST', '/applications', newApp(), proof.body.presence_token)).body.error).toBe('owner_presence_required');
    // A new passphrase ends presence proven with the old one.
    const fresh = await prove();
    await call('POST', '/owner/passphrase', { passphrase: 'lantern-quarry-mosaic-7714', current_passphrase: PASSPHRASE });
    expect((await call('POST', '/applications', newApp(), fresh.body.presence_token)).body.error).toBe('owner_presence_required');
  });

  it('wrong passphrases are refused, counted and audited, then backed off (429 with Retry-After), even for the right one', async () => {
    await setPassphrase();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expectRefused(test, () => prove(`wrong-guess-number-${attempt}-xyz`), { status: 403, error: 'wrong_passphrase', mayChange: ['owner_passphrase'] });
    }
    const locked = await prove();
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_attempts');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('GET', '/owner')).body).toMatchObject({ failed_attempts: 3, locked_until: expect.any(String), last_failed_at: expect.any(String) });
    const failures = test.broker.db.prepare("SELECT detail FROM audit_log WHERE event = 'owner.presence_failed'").all() as Array<{ detail: string }>;
    expect(failures).toHaveLength(3);
    // Once the back-off has passed, the right passphrase works and the count starts over.
    clock.advance(2_000);
    expect((await prove()).status).toBe(200);
    expect((await call('GET', '/owner')).body).toMatchObject({ failed_attempts: 0, locked_until: null });
  });

  it('parallel guesses are taken one at a time: each counts before the next is tried', async () => {
    await setPassphrase();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => prove(`parallel-wrong-guess-${i}-abc`)));
    expect(answers.filter((answer) => answer.status === 403)).toHaveLength(3);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(3);
  });

  it('a UI session is present for five minutes after the owner typed the passphrase, and that presence is its own', async () => {
    await setPassphrase();
    const a = await signIn();
    const b = await signIn();
    expect((await fromUi(a, 'POST', '/applications', newApp())).body.error).toBe('owner_presence_required');
    const proof = await fromUi(a, 'POST', '/owner/presence', { passphrase: PASSPHRASE });
    expect(proof.status).toBe(200);
    expect(proof.body.presence_token).toBeNull();
    expect((await fromUi(a, 'GET', '/owner')).body.present_until).toBe(proof.body.present_until);
    expect((await fromUi(a, 'POST', '/applications', newApp())).status).toBe(201);
    // Another session (another browser, or an agent that minted a login link) is not present.
    expect((await fromUi(b, 'POST', '/applications', newApp())).body.error).toBe('owner_presence_required');
    clock.advance(5 * 60_000 + 1);
    expect((await fromUi(a, 'POST', '/applications', newApp())).body.error).toBe('owner_presence_required');
  });

  it('the consent page asks for the passphrase: an agent that minted a UI session cannot allow for the owner', async () => {
    const notes = 'https://notes.example.test/';
    await ensureResource(test, notes, ['notes:read']);
    const app = await registerDelegatedApp(test, { resources: [notes] });
    await setPassphrase();
    // What an agent can do: mint a session with the admin token, open the consent page, post Allow.
    const agent = new Browser(test);
    await agent.signIn();
    const request = { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'notes:read', resource: notes, state: 's' };
    const page = await agent.authorize(request);
    expect(page.html).toContain('name="owner_passphrase"');
    const head = auditHead(test);
    const withoutIt = await agent.decide(consentForm(page.html), 'allow');
    expect(withoutIt.status).toBe(403);
    const wrong = await agent.decide(consentForm((await agent.authorize(request)).html), 'allow', { extra: { owner_passphrase: 'a-guess-from-the-agent-77' } });
    expect(wrong.status).toBe(403);
    expect(auditSince(test, head).map((row) => row.event)).toEqual(['authorization.refused', 'owner.presence_failed', 'authorization.refused']);
    expect(test.broker.db.prepare('SELECT COUNT(*) AS n FROM consents').get()).toEqual({ n: 0 });
    // The owner types it on the page: allowed, and the session is present for the next few minutes.
    const owner = new Browser(test);
    await owner.signIn();
    const allowed = await owner.decide(consentForm((await owner.authorize(request)).html), 'allow', { extra: { owner_passphrase: PASSPHRASE } });
    expect(allowed.status).toBe(303);
    expect(new URL(allowed.location!).searchParams.get('code')).toBeTruthy();
    expect((await owner.authorize(request)).html).not.toContain('name="owner_passphrase"');
    // Denying is free.
    const denied = await agent.decide(consentForm((await agent.authorize(request)).html), 'deny');
    expect(new URL(denied.location!).searchParams.get('error')).toBe('access_denied');
  });

  /** Opens a login link as a browser does: its cookies and its CSRF token. */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const link = await call('POST', '/login-links', {});
    const opened = await fetch(link.body.url, { redirect: 'manual' });
    const cookie = opened.headers.getSetCookie().map((value) => value.split(';')[0]).join('; ');
    const session = await fetch(`${test.issuer}/api/session`, { headers: { cookie } });
    return { cookie, csrf: ((await session.json()) as { csrf_token: string }).csrf_token };
  }

  async function fromUi(session: { cookie: string; csrf: string }, method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpResult> {
    const response = await fetch(`${test.issuer}/api${path}`, {
      method,
      headers: { cookie: session.cookie, origin: test.issuer, 'x-latchkey-csrf': session.csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, text };
  }
});
