// The Overview and Settings pages in Chromium: issuances and active agents appear live (server-sent
// events), a pending approval appears live, a locked vault shows as needing attention; Settings shows
// where the broker runs, rotates the signing key, locks and unlocks the vault, and signs out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm, registerService, removeDataDir, startBroker, TEST_PASSPHRASE, type Service, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const NOTES = 'https://notes.example.test/api';

describe.skipIf(unavailable !== null)('the Overview and Settings pages', () => {
  let test: TestBroker;
  let ui: UiBrowser;
  let service: Service;

  beforeAll(async () => {
    test = await startBroker({ socket: true });
    await setupOwner(test, 'Ada Lovelace', 'ada@example.com');
    service = await registerService(test, { resource: NOTES, scopes: ['notes:read'] });
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  const issue = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { headers: { authorization: basicAuth(service.clientId, service.clientSecret) } });

  it('with nothing issued yet, the Overview says so; nothing needs attention', async () => {
    await ui.go('/', 'Overview');
    await ui.page.getByText('Nothing issued yet').waitFor();
    await ui.page.getByText('Nothing needs your attention.').waitFor();
  });

  it('an issuance shows up live: the agent is active now and the token is in the recent issuances', async () => {
    await ui.go('/', 'Overview');
    await ui.page.getByText('live', { exact: true }).waitFor();
    expect((await issue()).status).toBe(200);
    const recent = ui.page.getByRole('table', { name: 'Recent issuances' });
    await recent.getByRole('row').filter({ hasText: NOTES }).waitFor();
    const active = ui.page.getByRole('region', { name: 'Agents active now' });
    await active.getByText(/Service \d+ \(1\)/).waitFor();
    await expect(active.locator('.stat').textContent()).resolves.toBe('1');
  });

  it('an agent asking for approval (CIBA) shows up live among the pending approvals', async () => {
    const agent = (await test.admin('POST', '/applications', { name: 'Mail agent', identity_type: 'agent', grant_types: ['ciba'], resources: [NOTES], scopes: ['notes:read'] })).body;
    await ui.go('/', 'Overview');
    await ui.page.getByText('live', { exact: true }).waitFor();
    const asked = await postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read', binding_message: 'Read my notes <b>now</b>' },
      { basic: [agent.client_id, agent.client_secret] });
    expect(asked.status).toBe(200);
    const pending = ui.page.getByRole('region', { name: 'Pending approvals' });
    // The agent's binding message is shown as text, never as markup.
    await pending.getByText('Mail agent asks for notes:read (“Read my notes <b>now</b>”)').waitFor();
    await expect(pending.locator('.stat').textContent()).resolves.toBe('1');
    await ui.screenshot('overview');
  });

  it('Settings shows where the broker runs', async () => {
    await ui.go('/settings', 'Settings');
    const facts = ui.page.getByRole('region', { name: 'This broker' });
    await facts.getByText(test.dataDir, { exact: true }).waitFor();
    await facts.getByText(test.socket!, { exact: true }).waitFor();
    await facts.getByText(new URL(test.issuer).port, { exact: true }).waitFor();
    await ui.screenshot('settings');
  });

  it('rotating the signing key asks first, then signs with a new key', async () => {
    await ui.go('/settings', 'Settings');
    const before = (await test.admin('GET', '/keys')).body.filter((key: any) => key.purpose === 'access_token' && key.retired_at === null)[0].kid;
    await ui.page.getByRole('button', { name: 'Rotate the access-token key' }).click();
    await ui.page.getByRole('dialog', { name: 'Rotate the signing key?' }).getByRole('button', { name: 'Rotate' }).click();
    await ui.page.getByText(/^New signing key /).waitFor();
    const keys = (await test.admin('GET', '/keys')).body;
    const live = keys.filter((key: any) => key.purpose === 'access_token' && key.retired_at === null)[0].kid;
    expect(live).not.toBe(before);
    await ui.page.getByRole('table', { name: 'Signing keys' }).getByText(live).waitFor();
  });

  it('locking the vault stops every issuance and shows on the Overview; unlocking with the passphrase resumes', async () => {
    await ui.go('/settings', 'Settings');
    await ui.page.getByRole('button', { name: 'Lock the vault' }).click();
    await ui.page.getByRole('dialog', { name: 'Lock the vault?' }).getByRole('button', { name: 'Lock the vault' }).click();
    await ui.page.getByText('The vault is locked: nothing that needs it is issued until it is unlocked.').waitFor();
    expect(test.broker.vaultStatus().state).toBe('locked');
    const refused = await issue();
    expect(refused.status).toBeGreaterThanOrEqual(500);

    await ui.go('/', 'Overview');
    await ui.page.getByRole('region', { name: 'Needs attention' }).getByText(/The vault is locked/).waitFor();
    await ui.screenshot('overview-vault-locked');

    await ui.go('/settings', 'Settings');
    await ui.page.getByLabel('Passphrase').fill(TEST_PASSPHRASE);
    await ui.page.getByRole('button', { name: 'Unlock' }).click();
    await ui.page.getByText('unlocked', { exact: true }).waitFor();
    expect((await issue()).status).toBe(200);
  });

  it('signing out from Settings ends the session', async () => {
    await ui.go('/settings', 'Settings');
    await ui.page.getByRole('region', { name: 'Your session' }).getByRole('button', { name: 'Sign out' }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Signed out' }).waitFor();
    expect((await test.admin('GET', '/audit?event=ui.session_ended')).body).toHaveLength(1);
    // The only failure is the reload's question after signing out: there is no session any more.
    expect(ui.errors).toEqual(['401 GET /api/session']);
  });
});
