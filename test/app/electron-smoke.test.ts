// The desktop app itself, driven by Playwright's Electron support where an Electron binary exists. The
// build machines here have none (its download is not reachable): then the test is skipped, saying why.
// Everything the shell decides without Electron is tested under Node in test/unit/app.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { findElectron } from '../../main/cli/start.js';
import { postForm } from '../support/broker.js';
import { REPO_ROOT, readRuntime, requireFreshBuild } from '../support/cli.js';

const found = findElectron();
const skipped = 'missing' in found ? `Electron smoke test skipped: ${found.missing}` : null;
if (skipped) console.log(skipped);
const electronIt = skipped ? it.skip : it;

const NOTES = 'https://notes.example.test/api';
const CIBA = 'urn:openid:params:grant-type:ciba';

describe('the desktop app (Electron)', () => {
  let app: ElectronApplication | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-electron-'));
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  electronIt('runs the broker in-process, serves the UI from latchkey://ui with its admin API, and keeps the page away from Node', async () => {
    requireFreshBuild();
    app = await electron.launch({
      executablePath: 'binary' in found ? found.binary : '',
      args: [join(REPO_ROOT, 'dist', 'main', 'app', 'main.js'), '--data-dir', dataDir, '--port', '0'],
      env: { ...process.env, LATCHKEY_VAULT_PASSPHRASE: 'correct horse battery staple' },
    });
    const window = await app.firstWindow();
    await window.waitForLoadState('domcontentloaded');
    expect(window.url()).toMatch(/^latchkey:\/\/ui\//);
    // The page has no Node, and the preload exposes exactly the UI's API.
    expect(await window.evaluate(() => [typeof (globalThis as any).require, typeof (globalThis as any).process])).toEqual(['undefined', 'undefined']);
    expect(await window.evaluate(() => Object.keys((globalThis as any).latchkey).sort())).toEqual(['openExternal', 'shellInfo']);
    expect(await window.evaluate(() => (globalThis as any).latchkeyPrompt)).toBeUndefined();
    // Relative /api/... reaches the in-process broker's admin API; the token never reaches the page.
    const status = await window.evaluate(async () => (await fetch('/api/status')).json());
    expect(status).toMatchObject({ agents_paused: false, vault: { state: 'unlocked' } });
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    expect(await window.evaluate(() => (globalThis as any).document.documentElement.outerHTML)).not.toContain(token);
    // The page's CSP came with it; it may not fetch the loopback broker directly.
    expect(await window.evaluate(async (issuer) => { try { await fetch(`${issuer}/api/status`); return 'fetched'; } catch { return 'refused'; } }, readRuntime(dataDir)!.issuer)).toBe('refused');
    // Navigation away is refused; the window stays on the app.
    await window.evaluate(() => { (globalThis as any).location.href = 'https://example.com/'; });
    await window.waitForTimeout(500);
    expect(window.url()).toMatch(/^latchkey:\/\/ui\//);
  });

  electronIt('an agent\'s CIBA request opens the consent window: Deny focused, Allow only after a moment, then the agent gets its token', async () => {
    const issuer = readRuntime(dataDir)!.issuer;
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const admin = async (path: string, body: unknown) => (await fetch(`${issuer}/api${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;
    await admin('/setup', { name: 'Ada', email: 'ada@example.com' });
    await admin('/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] });
    const agent = await admin('/applications', { name: 'Night agent', identity_type: 'agent', grant_types: ['ciba'], resources: [NOTES], scopes: ['notes:read'] });
    const opened = app!.waitForEvent('window');
    const asked = await postForm(`${issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read', binding_message: '<b>ref 42</b>' }, { basic: [agent.client_id, agent.client_secret] });
    expect(asked.status).toBe(200);
    const prompt = await opened;
    await prompt.waitForSelector('#prompt:not([hidden])');
    expect(prompt.url()).toBe('latchkey://prompt/prompt.html');
    expect(await prompt.textContent('#application')).toBe('Night agent');
    // The binding message is text, never markup.
    expect(await prompt.textContent('#binding')).toBe('<b>ref 42</b>');
    expect(await prompt.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('deny');
    expect(await prompt.isDisabled('#allow')).toBe(true);
    await prompt.waitForSelector('#allow:not([disabled])', { timeout: 3_000 });
    await prompt.click('#allow');
    // The answer goes over IPC; the agent's next poll (after its interval) finds it approved.
    let granted = await postForm(`${issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: asked.body.auth_req_id }, { basic: [agent.client_id, agent.client_secret] });
    for (let i = 0; i < 12 && granted.body?.error === 'authorization_pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      granted = await postForm(`${issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: asked.body.auth_req_id }, { basic: [agent.client_id, agent.client_secret] });
    }
    expect(granted.status, granted.text).toBe(200);
  });
});
