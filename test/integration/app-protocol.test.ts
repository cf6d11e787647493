// The desktop shell's latchkey:// handler against a real broker, under Node: Electron is replaced by a fake
// (Bitwarden's rule: a fake for every native module) that captures the handler the shell registers. The UI's
// relative /api calls reach the admin API with the admin token added by main; nothing of the page's request
// but what the API needs is passed on; files come with their CSP; nothing outside the UI's folder is served.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../main/core/logger.js';
import { PROMPT_CSP, UI_CSP } from '../../main/app/content-security-policy.js';
import { removeDataDir, startBroker, type TestBroker } from '../support/broker.js';

vi.mock('electron', () => ({ protocol: { registerSchemesAsPrivileged: vi.fn() } }));
const { AppProtocol } = await import('../../main/app/app-protocol.js');

describe('latchkey:// (the desktop shell\'s protocol handler)', () => {
  let test: TestBroker;
  let handler: (request: Request) => Promise<Response>;
  const root = mkdtempSync(join(tmpdir(), 'latchkey-app-files-'));
  const uiRoot = join(root, 'renderer', 'dist');
  const promptRoot = join(root, 'prompt');

  beforeAll(async () => {
    test = await startBroker();
    mkdirSync(join(uiRoot, 'assets'), { recursive: true });
    mkdirSync(promptRoot, { recursive: true });
    writeFileSync(join(uiRoot, 'index.html'), '<!doctype html><title>UI</title>');
    writeFileSync(join(uiRoot, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(root, 'renderer', 'secret.js'), 'outside');
    writeFileSync(join(promptRoot, 'prompt.html'), '<!doctype html><title>Prompt</title>');
    const session = { protocol: { handle: (_scheme: string, registered: typeof handler) => { handler = registered; } } };
    new AppProtocol({ uiRoot, promptRoot, issuer: () => test.issuer, adminToken: test.broker.adminToken, log: silentLogger }).register(session as never);
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
    rmSync(root, { recursive: true, force: true });
  });

  it('forwards the UI\'s /api calls to the admin API with the admin token, which the page never sees', async () => {
    const status = await handler(new Request('latchkey://ui/api/status'));
    expect(status.status).toBe(200);
    const body = await status.text();
    expect(JSON.parse(body)).toMatchObject({ issuer: test.issuer, agents_paused: false });
    expect(body).not.toContain(test.broker.adminToken);
    expect([...status.headers.keys()].filter((name) => name.startsWith('access-control-') || name === 'set-cookie')).toEqual([]);

    const paused = await handler(new Request('latchkey://ui/api/agents/pause', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paused: true }) }));
    expect(await paused.json()).toEqual({ paused: true });
    expect(test.broker.agentPause.paused).toBe(true);
    await handler(new Request('latchkey://ui/api/agents/pause', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paused: false }) }));
  });

  it('passes on no cookie, Origin or Authorization of the page\'s own: a page cannot choose its credentials', async () => {
    // Were they passed on, the admin API would answer 401 (a wrong bearer token) or 403 (a foreign Origin).
    const withOwn = await handler(new Request('latchkey://ui/api/status', { headers: { authorization: 'Bearer not-the-token-aaaaaaaaaaaaaaaaaaaa', origin: 'https://evil.example', cookie: 'latchkey_session=x' } }));
    expect(withOwn.status).toBe(200);
  });

  it('answers an admin API error as the API does (status and JSON), and refuses a body over 1 MiB before forwarding', async () => {
    const bad = await handler(new Request('latchkey://ui/api/agents/pause', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paused: 'yes' }) }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_request' });
    const huge = await handler(new Request('latchkey://ui/api/policies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) }));
    expect(huge.status).toBe(413);
  });

  it('the desktop UI has a session without a cookie: GET /api/session answers (no owner yet, then the owner) with no CSRF token, and changes need none', async () => {
    const json = { 'content-type': 'application/json' };
    const before = await handler(new Request('latchkey://ui/api/session'));
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ user: null, csrf_token: null, started_at: null });
    // First-run setup from the desktop UI: a state change with no CSRF header, as the UI's client sends it then.
    const setup = await handler(new Request('latchkey://ui/api/setup', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com' }) }));
    expect(setup.status, await setup.clone().text()).toBe(201);
    const after = await handler(new Request('latchkey://ui/api/session'));
    expect(await after.json()).toEqual({ user: { id: ((await setup.json()) as { id: string }).id, name: 'Ada Lovelace', email: 'ada@example.com' }, csrf_token: null, started_at: null });
    const created = await handler(new Request('latchkey://ui/api/applications', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Desktop-made agent', grant_types: ['client_credentials'] }) }));
    expect(created.status).toBe(201);
    // Nothing to sign out of: refused, not pretended; the desktop UI goes on working.
    const logout = await handler(new Request('latchkey://ui/api/session/logout', { method: 'POST', headers: json, body: '{}' }));
    expect(logout.status).toBe(400);
    expect(await logout.json()).toMatchObject({ error: 'invalid_request' });
    expect((await handler(new Request('latchkey://ui/api/session'))).status).toBe(200);
  });

  it('serves the UI\'s files and routes with the UI\'s CSP, and the consent page with its own', async () => {
    const index = await handler(new Request('latchkey://ui/approvals'));
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>UI</title>');
    expect(index.headers.get('content-security-policy')).toBe(UI_CSP);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const script = await handler(new Request('latchkey://ui/assets/app.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const prompt = await handler(new Request('latchkey://prompt/prompt.html'));
    expect(prompt.headers.get('content-security-policy')).toBe(PROMPT_CSP);
    expect((await handler(new Request('latchkey://ui/assets/missing.js'))).status).toBe(404);
  });

  it('path traversal out of the UI\'s folder finds nothing', async () => {
    for (const url of ['latchkey://ui/../secret.js', 'latchkey://ui/%2e%2e/secret.js', 'latchkey://ui/assets/..%2f..%2fsecret.js', 'latchkey://ui/..%5csecret.js', 'latchkey://prompt/../renderer/secret.js']) {
      const response = await handler(new Request(url));
      expect(await response.text(), url).not.toBe('outside');
    }
  });
});
