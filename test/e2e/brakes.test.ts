// The user's brakes in the UI: "Pause all agents" on the Overview (a switch; shown in the header on every
// page while on) stops every issuance until it is switched off, and a pause thrown elsewhere (the tray, the
// CLI) shows up live; "Lock the vault" stays in Settings. The Overview also flags a signing key that has
// signed for longer than the rotation period, from what GET /api/keys says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { TestClock, setupOwner } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const NOTES = 'https://notes.example.test/api';
const DAY_MS = 86_400_000;

describe.skipIf(unavailable !== null)('the brakes in the UI', () => {
  const clock = new TestClock();
  let test: TestBroker;
  let ui: UiBrowser;
  let service: Service;

  beforeAll(async () => {
    // The broker (and its first signing keys) was set up 200 days ago.
    clock.offsetMs = -200 * DAY_MS;
    test = await startBroker({ clock });
    clock.offsetMs = 0;
    await setupOwner(test);
    service = await registerService(test, { resource: NOTES, scopes: ['notes:read'] });
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  const page = () => ui.page;
  const issue = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [service.clientId, service.clientSecret] });
  const pauseSwitch = () => page().getByRole('switch', { name: 'Pause all agents' });
  const headerBadge = () => page().getByRole('banner').getByRole('link', { name: 'All agents paused' });

  it('the Overview flags a signing key that has not been rotated for 200 days, with a way to Settings', async () => {
    await ui.go('/', 'Overview');
    const attention = page().getByRole('region', { name: 'Needs attention' });
    await attention.getByText(/The access token signing key was last rotated 200 days ago\./).waitFor();
    // Only the key Settings can rotate is flagged.
    expect(await attention.getByText(/id token/).count()).toBe(0);
    await ui.screenshot('overview-key-due');
    await attention.getByRole('link', { name: 'Signing keys' }).click();
    await page().getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await page().getByRole('button', { name: 'Lock the vault' }).waitFor();
    // Rotated: nothing is flagged any more.
    await page().getByRole('button', { name: 'Rotate the access-token key' }).click();
    await page().getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page().getByRole('status').getByText(/New signing key/).waitFor();
    await ui.go('/', 'Overview');
    await attention.getByText('Nothing needs your attention.').waitFor();
  });

  it('"Pause all agents" stops every issuance and says so in the header on every page; switching it off resumes', async () => {
    expect((await issue()).status).toBe(200);
    await ui.go('/', 'Overview');
    await page().getByText('live', { exact: true }).waitFor();
    expect(await pauseSwitch().getAttribute('aria-checked')).toBe('false');
    expect(await headerBadge().count()).toBe(0);
    await pauseSwitch().click();
    await page().getByRole('status').getByText('All agents are paused', { exact: false }).waitFor();
    expect(await pauseSwitch().getAttribute('aria-checked')).toBe('true');
    await headerBadge().waitFor();
    expect(test.broker.agentPause.paused).toBe(true);
    const refused = await issue();
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });
    await ui.screenshot('overview-agents-paused');

    // Another page: the header still says so; the vault's lock is where it was.
    await ui.go('/settings', 'Settings');
    await headerBadge().waitFor();
    await page().getByRole('button', { name: 'Lock the vault' }).waitFor();
    await headerBadge().click();
    await page().getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    await pauseSwitch().click();
    await page().getByRole('status').getByText('Agents are running again.').waitFor();
    expect(await pauseSwitch().getAttribute('aria-checked')).toBe('false');
    await headerBadge().waitFor({ state: 'detached' });
    expect((await issue()).status).toBe(200);
  });

  it('a pause thrown elsewhere (the tray, the CLI) shows on the open Overview at once, and its end too', async () => {
    await ui.go('/', 'Overview');
    await page().getByText('live', { exact: true }).waitFor();
    expect((await test.admin('POST', '/agents/pause', { paused: true })).body).toEqual({ paused: true });
    await headerBadge().waitFor();
    await page().locator('[role="switch"][aria-checked="true"]').waitFor();
    expect((await test.admin('POST', '/agents/pause', { paused: false })).body).toEqual({ paused: false });
    await headerBadge().waitFor({ state: 'detached' });
    expect(ui.errors).toEqual([]);
  });

  it('the switch works with the keyboard', async () => {
    await pauseSwitch().focus();
    await page().keyboard.press('Space');
    await headerBadge().waitFor();
    expect(test.broker.agentPause.paused).toBe(true);
    await page().keyboard.press('Space');
    await headerBadge().waitFor({ state: 'detached' });
    expect(test.broker.agentPause.paused).toBe(false);
  });
});
