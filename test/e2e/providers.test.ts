// Providers in the UI against a real upstream (oidc-provider on 127.0.0.1, its own login and consent
// pages): the provider added by clicking, its client secret typed into a password field and never shown
// back; Connect opens the provider's login in a tab of its own, where the test signs in as a person
// would, and the page shows the account connected; a brokered resource made on it, which an agent then
// reaches; the refresh token revoked upstream makes the agent's next request fail, and the Overview lists
// the account under "needs attention" with the provider's reason and a Reconnect that works; Disconnect.
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, TestClock, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';
import { signInAtProviderTab, startUpstream, type Upstream } from '../support/upstream-provider.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const BROKERED = 'https://api.upstream.example.test/';

describe.skipIf(unavailable !== null)('providers in the UI (brokered access, real upstream)', () => {
  const clock = new TestClock();
  let test: TestBroker;
  let upstream: Upstream;
  let ui: UiBrowser;
  let ownerId: string;
  let providerId: string;
  let agent: DelegatedApp;
  let person: Browser;
  /** Every admin-API response body the page received. */
  const responses: string[] = [];

  beforeAll(async () => {
    test = await startBroker({ clock });
    upstream = await startUpstream({ redirectUri: `${test.issuer}/oauth2/providers/callback` });
    ownerId = await setupOwner(test);
    ui = await signedInUi(test);
    ui.page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/') && !response.url().includes('/events')) {
        void response.text().then((text) => responses.push(text), () => undefined);
      }
    });
    person = new Browser(test);
    await person.signIn();
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    await upstream?.close();
    removeDataDir(test.dataDir);
  });

  const page = () => ui.page;
  const dialog = () => page().getByRole('dialog');
  const providerRow = () => page().getByRole('table', { name: 'Providers' }).getByRole('row').filter({ hasText: 'Upstream' });
  const providerView = async () => (await test.admin('GET', '/providers')).body.find((provider: { id: string }) => provider.id === providerId);

  /** Clicks `button`, which opens the provider's login in a new tab, and signs in there as a person would. */
  async function signInAtProvider(click: () => Promise<void>): Promise<Page> {
    const [tab] = await Promise.all([ui.context.waitForEvent('page'), click()]);
    await signInAtProviderTab(tab, upstream, test.issuer);
    // Back at the broker's callback, which says so in a page of its own.
    await tab.getByText('Your Upstream account is connected to Latchkey.').waitFor();
    return tab;
  }

  /** What an agent the owner authorized gets for the brokered resource. */
  async function agentAsks() {
    const { verifier, challenge } = pkce();
    const { code } = await person.authorizeAndAllow({ response_type: 'code', client_id: agent.clientId, redirect_uri: agent.redirectUri, resource: BROKERED,
      code_challenge: challenge, code_challenge_method: 'S256', state: randomBytes(8).toString('hex') }, { remember: true });
    return postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', client_id: agent.clientId, code, code_verifier: verifier, redirect_uri: agent.redirectUri, resource: BROKERED });
  }

  it('adds a provider by clicking: the client secret goes in a password field, to the vault, and is never shown back', async () => {
    await ui.go('/resources', 'Resources & providers');
    await page().getByText('No providers yet').waitFor();
    await page().getByRole('button', { name: 'Add provider' }).click();
    await dialog().getByLabel('Name').fill('Upstream');
    await dialog().getByRole('textbox', { name: 'Issuer' }).fill(upstream.issuer);
    await dialog().getByLabel('Client ID').fill(upstream.clientId);
    const secret = dialog().getByLabel('Client secret (optional)');
    expect(await secret.getAttribute('type')).toBe('password');
    await secret.fill(upstream.clientSecret);
    await dialog().getByLabel('Scopes').fill('openid offline_access');
    await dialog().getByRole('button', { name: 'Add provider' }).click();
    await page().getByRole('status').getByText('Provider Upstream added.', { exact: false }).waitFor();
    await providerRow().getByText('Not connected').waitFor();
    await providerRow().getByText('(secret in the vault)').waitFor();
    await ui.screenshot('providers-added');

    const listed = (await test.admin('GET', '/providers')).body;
    expect(listed).toEqual([expect.objectContaining({ name: 'Upstream', issuer: upstream.issuer, client_id: upstream.clientId, has_client_secret: true, scopes: ['openid', 'offline_access'], status: 'not_connected' })]);
    providerId = listed[0].id;
    const values = await page().locator('input').evaluateAll((inputs) => inputs.map((input) => (input as unknown as { value: string }).value));
    expect(values).not.toContain(upstream.clientSecret);
    expect([await page().content(), responses.join('\n')].join('\n')).not.toContain(upstream.clientSecret);
  });

  it('Connect opens the provider\'s login in a new tab; once signed in there, the page shows the account connected', async () => {
    const tab = await signInAtProvider(() => providerRow().getByRole('button', { name: 'Connect Upstream' }).click());
    await ui.screenshot('providers-connecting');
    await tab.close();
    // The page learns it from the live audit feed: no reload.
    await providerRow().getByText('Connected', { exact: true }).waitFor();
    await providerRow().getByRole('button', { name: 'Disconnect Upstream' }).waitFor();
    expect(await providerView()).toMatchObject({ status: 'connected', attention: null, connected_at: expect.any(String) });
    await ui.screenshot('providers-connected');
  });

  it('creates a brokered resource on the provider, with its upstream scopes; an authorized agent gets the provider\'s token', async () => {
    await page().getByRole('button', { name: 'Add resource' }).click();
    await dialog().getByLabel('Name').fill('Upstream API');
    await dialog().getByLabel('Identifier').fill(BROKERED);
    await dialog().getByRole('radio', { name: /Brokered access/ }).check();
    await dialog().getByLabel('Provider', { exact: true }).selectOption({ label: 'Upstream' });
    await dialog().getByLabel('Upstream scopes').fill('api:read');
    await dialog().getByRole('button', { name: 'Add resource' }).click();
    const row = page().getByRole('table', { name: 'Resources' }).getByRole('row').filter({ hasText: 'Upstream API' });
    await row.getByText('via Upstream').waitFor();
    await ui.screenshot('providers-brokered-resource');
    const resource = (await test.admin('GET', '/resources')).body.find((candidate: { identifier: string }) => candidate.identifier === BROKERED);
    expect(resource).toMatchObject({ credential_type: 'brokered', provider_id: providerId, upstream_scopes: ['api:read'] });

    agent = await registerDelegatedApp(test, { resources: [BROKERED] });
    const answer = await agentAsks();
    expect(answer.status, answer.text).toBe(200);
    expect(await upstream.userinfo(answer.body.access_token)).toMatchObject({ status: 200, body: { sub: 'ada' } });
  });

  it('revoked upstream: the agent\'s next request fails, and the Overview lists the account under "needs attention" with the reason and a Reconnect', async () => {
    await ui.go('/', 'Overview');
    await page().getByText('live', { exact: true }).waitFor();
    await page().getByText('Nothing needs your attention.').waitFor();
    // The agent's upstream token is among the recent issuances (the audit row names no token).
    await page().getByRole('table', { name: 'Recent issuances' }).getByRole('row').filter({ hasText: 'upstream token' }).filter({ hasText: BROKERED }).first().waitFor();
    // The owner removes Latchkey's access at the provider; Latchkey finds out when its cached token runs out.
    await upstream.revoke(test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)!.toString());
    const account = test.broker.providerAccounts.get(providerId, ownerId)!;
    clock.advance(account.expiresAt! - 30_000 - clock.now());
    const refused = await agentAsks();
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('interaction_required');

    const attention = page().getByRole('region', { name: 'Needs attention' });
    await attention.getByText('Your Upstream account needs to be reconnected: the upstream refresh token was revoked or has expired.').waitFor();
    await ui.screenshot('overview-provider-needs-attention');

    const tab = await signInAtProvider(() => attention.getByRole('button', { name: 'Reconnect Upstream' }).click());
    await tab.close();
    await attention.getByText('Nothing needs your attention.').waitFor();
    expect(await providerView()).toMatchObject({ status: 'connected', attention: null });
    const again = await agentAsks();
    expect(again.status, again.text).toBe(200);
  });

  it('Disconnect revokes the account upstream; the page shows it not connected', async () => {
    const refreshToken = test.broker.vault.get(`provider-refresh-token:${providerId}:${ownerId}`)!.toString();
    await ui.go('/resources', 'Resources & providers');
    await providerRow().getByRole('button', { name: 'Disconnect Upstream' }).click();
    await page().getByRole('status').getByText('Upstream is disconnected.').waitFor();
    await providerRow().getByText('Not connected').waitFor();
    await providerRow().getByRole('button', { name: 'Connect Upstream' }).waitFor();
    expect(await upstream.introspect(refreshToken)).toMatchObject({ active: false });
    expect((await agentAsks()).body.error).toBe('interaction_required');
    await ui.screenshot('providers-disconnected');
    expect([await page().content(), responses.join('\n')].join('\n')).not.toContain(upstream.clientSecret);
    expect(ui.errors).toEqual([]);
  });
});
