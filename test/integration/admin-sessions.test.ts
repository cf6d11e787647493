// Admin sessions (issue 6 item 2): the UI reaches the admin API with the session a one-time login link
// opened (an HttpOnly, SameSite=Strict cookie), and every state-changing request must also carry the
// session's CSRF token and the broker's own Origin. The CLI's bearer token is unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, removeDataDir, startBroker, type HttpResult, type TestBroker } from '../support/broker.js';
import { setupOwner, TestClock } from '../support/browser.js';
import { auditSince, auditHead, expectRefused } from '../support/refusals.js';

interface AdminSession {
  /** The Cookie header a browser would send back: both cookies of the session. */
  cookie: string;
  adminCookie: string;
  consentCookie: string;
  csrf: string;
}

describe('admin sessions', () => {
  let test: TestBroker;
  const clock = new TestClock();
  let ownerId: string;

  beforeAll(async () => {
    test = await startBroker({ clock });
    ownerId = await setupOwner(test);
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  /** Opens a fresh login link as a browser does, keeps its cookies, and asks for the CSRF token. */
  async function signIn(): Promise<AdminSession> {
    const link = await test.admin('POST', '/login-links', {});
    const opened = await fetch(link.body.url, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const cookies = opened.headers.getSetCookie();
    const adminCookie = cookies.find((value) => value.startsWith('latchkey_admin='))!.split(';')[0]!;
    const consentCookie = cookies.find((value) => value.startsWith('latchkey_session='))!.split(';')[0]!;
    const cookie = `${consentCookie}; ${adminCookie}`;
    const session = await call('GET', '/session', { cookie });
    expect(session.status).toBe(200);
    return { cookie, adminCookie, consentCookie, csrf: session.body.csrf_token };
  }

  async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<HttpResult> {
    const response = await fetch(`${test.issuer}/api${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  /** What the UI sends: the cookies, its own Origin and the CSRF token. */
  const fromUi = (session: AdminSession, extra: Record<string, string> = {}) => ({ cookie: session.cookie, origin: test.issuer, 'x-latchkey-csrf': session.csrf, ...extra });
  const newApp = () => ({ name: `App ${Math.random().toString(36).slice(2)}`, identity_type: 'service' });

  it('the login link sets the admin cookie HttpOnly, SameSite=Strict, Path=/, beside the consent flow\'s Lax one', async () => {
    const link = await test.admin('POST', '/login-links', {});
    const opened = await fetch(link.body.url, { redirect: 'manual' });
    const cookies = opened.headers.getSetCookie();
    const admin = cookies.find((value) => value.startsWith('latchkey_admin='))!;
    expect(admin).toMatch(/^latchkey_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(cookies.find((value) => value.startsWith('latchkey_session='))).toContain('SameSite=Lax');
  });

  it('GET /api/session names the signed-in owner and gives the CSRF token; the UI\'s requests then work', async () => {
    const session = await signIn();
    const view = await call('GET', '/session', { cookie: session.cookie });
    expect(view.body.user).toEqual({ id: ownerId, name: expect.any(String), email: expect.any(String) });
    expect(view.body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(view.headers.get('cache-control')).toBe('no-store');
    // Reads need only the session; a change needs the token and the Origin too.
    expect((await call('GET', '/applications', { cookie: session.cookie })).status).toBe(200);
    const created = await call('POST', '/applications', fromUi(session), newApp());
    expect(created.status).toBe(201);
  });

  it('the admin token (CLI, desktop app) works with no CSRF token; its session view is the owner, with no CSRF token and nothing to sign out of', async () => {
    expect((await test.admin('POST', '/applications', newApp())).status).toBe(201);
    const view = await test.admin('GET', '/session');
    expect(view.status).toBe(200);
    expect(view.body).toEqual({ user: { id: ownerId, name: expect.any(String), email: expect.any(String) }, csrf_token: null, started_at: null });
    // Signing out would end nothing: refused (not a pretend success), and nothing changes.
    await expectRefused(test, () => call('POST', '/session/logout', { authorization: `Bearer ${test.broker.adminToken}` }, {}), { status: 400, error: 'invalid_request', audited: false });
    expect((await test.admin('GET', '/applications')).status).toBe(200);
  });

  it('no session: the admin API answers 401 to reads and changes, and changes nothing', async () => {
    expect((await call('GET', '/session', {})).status).toBe(401);
    expect((await call('GET', '/applications', {})).status).toBe(401);
    await expectRefused(test, () => call('POST', '/applications', { origin: test.issuer, 'x-latchkey-csrf': 'x'.repeat(43) }, newApp()),
      { status: 401, error: 'unauthorized', audited: false });
  });

  it('a made-up session cookie is no session', async () => {
    await expectRefused(test, () => call('GET', '/applications', { cookie: `latchkey_admin=${'A'.repeat(43)}` }), { status: 401, error: 'unauthorized', audited: false });
  });

  it('the consent flow\'s Lax cookie alone does not open the admin API (a cross-site navigation carries it)', async () => {
    const session = await signIn();
    await expectRefused(test, () => call('GET', '/applications', { cookie: session.consentCookie }), { status: 401, error: 'unauthorized', audited: false });
    await expectRefused(test, () => call('POST', '/applications', { cookie: session.consentCookie, origin: test.issuer, 'x-latchkey-csrf': session.csrf }, newApp()),
      { status: 401, error: 'unauthorized', audited: false });
  });

  it('a foreign Origin is refused with a valid session and CSRF token, and recorded', async () => {
    const session = await signIn();
    const refused = await expectRefused(test, () => call('POST', '/applications', fromUi(session, { origin: 'http://evil.example' }), newApp()),
      { status: 403, error: 'forbidden', secrets: [session.csrf, session.adminCookie.split('=')[1]!] });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    // A page on another origin cannot read the session either (it would learn the CSRF token).
    expect((await call('GET', '/session', { cookie: session.cookie, origin: 'http://evil.example' })).status).toBe(403);
  });

  it('a missing Origin on a state-changing request is refused', async () => {
    const session = await signIn();
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const path = method === 'POST' ? '/applications' : '/applications/nonexistent';
      await expectRefused(test, () => call(method, path, { cookie: session.cookie, 'x-latchkey-csrf': session.csrf }, method === 'DELETE' ? undefined : newApp()),
        { status: 403, error: 'forbidden' });
    }
  });

  it('a missing CSRF token is refused', async () => {
    const session = await signIn();
    await expectRefused(test, () => call('POST', '/applications', { cookie: session.cookie, origin: test.issuer }, newApp()), { status: 403, error: 'forbidden' });
    await expectRefused(test, () => call('POST', '/session/logout', { cookie: session.cookie, origin: test.issuer }, {}), { status: 403, error: 'forbidden' });
    // The session is still live: the forged logout did nothing.
    expect((await call('GET', '/session', { cookie: session.cookie })).status).toBe(200);
  });

  it('a wrong CSRF token is refused, another session\'s token included', async () => {
    const session = await signIn();
    const other = await signIn();
    for (const wrong of ['x'.repeat(43), other.csrf, session.csrf.slice(0, -1), `${session.csrf}A`]) {
      await expectRefused(test, () => call('POST', '/applications', fromUi(session, { 'x-latchkey-csrf': wrong }), newApp()),
        { status: 403, error: 'forbidden', secrets: [session.csrf] });
    }
    const rows = auditSince(test, 0).filter((row) => row.event === 'admin.request_refused');
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(session.csrf);
  });

  it('a reused login link opens no second session', async () => {
    const link = await test.admin('POST', '/login-links', {});
    expect((await fetch(link.body.url, { redirect: 'manual' })).status).toBe(303);
    const sessions = count(test, 'ui_sessions');
    const again = await fetch(link.body.url, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(again.headers.getSetCookie()).toEqual([]);
    expect(count(test, 'ui_sessions')).toBe(sessions);
  });

  it('a session cookie after logout is refused', async () => {
    const session = await signIn();
    const seq = auditHead(test);
    const out = await call('POST', '/session/logout', fromUi(session), {});
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().every((value) => value.includes('Max-Age=0'))).toBe(true);
    expect(auditSince(test, seq).map((row) => row.event)).toEqual(['ui.session_ended']);
    await expectRefused(test, () => call('GET', '/applications', { cookie: session.cookie }), { status: 401, error: 'unauthorized', audited: false });
    await expectRefused(test, () => call('POST', '/applications', fromUi(session), newApp()), { status: 401, error: 'unauthorized', audited: false });
    // The consent flow's cookie was the same session: it ended too.
    expect(test.broker.sessions.fromCookieHeader(session.cookie)).toBeNull();
  });

  it('a session expires', async () => {
    const session = await signIn();
    clock.advance(12 * 3600_000 + 1_000);
    try {
      expect((await call('GET', '/session', { cookie: session.cookie })).status).toBe(401);
    } finally {
      clock.advance(-(12 * 3600_000 + 1_000));
    }
  });

  it('the session of an owner who was disabled opens nothing', async () => {
    const session = await signIn();
    test.broker.db.prepare('UPDATE users SET enabled = 0 WHERE id = ?').run(ownerId);
    try {
      await expectRefused(test, () => call('GET', '/applications', { cookie: session.cookie }), { status: 401, error: 'unauthorized', audited: false });
      await expectRefused(test, () => call('POST', '/applications', fromUi(session), newApp()), { status: 401, error: 'unauthorized', audited: false });
    } finally {
      test.broker.db.prepare('UPDATE users SET enabled = 1 WHERE id = ?').run(ownerId);
    }
  });

  it('sessions are stored hashed: neither the session id nor the CSRF token is in the database', async () => {
    const session = await signIn();
    const dump = JSON.stringify(test.broker.db.prepare('SELECT * FROM ui_sessions').all());
    expect(dump).not.toContain(session.adminCookie.split('=')[1]);
    expect(dump).not.toContain(session.csrf);
  });
});

describe('first-run sessions (a fresh install, no owner yet)', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker();
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  const open = async (url: string) => {
    const opened = await fetch(url, { redirect: 'manual' });
    const cookie = opened.headers.getSetCookie().map((value) => value.split(';')[0]).join('; ');
    return { status: opened.status, cookie };
  };
  const session = async (cookie: string, origin?: string, csrf?: string, method = 'GET', path = '/session', body?: unknown) => {
    const response = await fetch(`${test.issuer}/api${path}`, {
      method,
      headers: { cookie, ...(origin ? { origin } : {}), ...(csrf ? { 'x-latchkey-csrf': csrf } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: await response.json() as any };
  };

  it('the login link of a fresh install opens a session without a user, which sets up the owner and becomes theirs', async () => {
    const link = await test.admin('POST', '/login-links', {});
    expect(link.status).toBe(201);
    expect(link.body.first_run).toBe(true);
    const opened = await open(link.body.url);
    expect(opened.status).toBe(303);
    const before = await session(opened.cookie);
    expect(before.status).toBe(200);
    expect(before.body.user).toBeNull();
    // Not a user for the consent flow: the authorization endpoint still asks for a sign-in.
    expect(test.broker.sessions.fromCookieHeader(opened.cookie)).toBeNull();

    const setup = await session(opened.cookie, test.issuer, before.body.csrf_token, 'POST', '/setup', { name: 'Grace Hopper', email: 'grace@example.test' });
    expect(setup.status).toBe(201);
    const after = await session(opened.cookie);
    expect(after.body.user).toEqual({ id: setup.body.id, name: 'Grace Hopper', email: 'grace@example.test' });
    expect(test.broker.sessions.fromCookieHeader(opened.cookie)?.userId).toBe(setup.body.id);
  });

  it('a first-run link opened after the owner exists opens nothing', async () => {
    const fresh = await startBroker();
    try {
      const link = fresh.broker.loginLink()!;
      expect(link.firstRun).toBe(true);
      await fresh.admin('POST', '/setup', { name: 'Owner', email: 'owner@example.test' });
      const sessions = count(fresh, 'ui_sessions');
      const opened = await fetch(link.url, { redirect: 'manual' });
      expect(opened.status).toBe(400);
      expect(opened.headers.getSetCookie()).toEqual([]);
      expect(count(fresh, 'ui_sessions')).toBe(sessions);
    } finally {
      await fresh.close();
      removeDataDir(fresh.dataDir);
    }
  });
});
