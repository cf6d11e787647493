// First-run setup with a provider as the first resource (issue 6 item 1): on a fresh install the owner
// chooses "Connect a provider", adds it there (the client secret in a password field), connects the account
// in the provider's own tab (a real oidc-provider), and makes a brokered resource on it; the application
// step then says how agents reach such a resource (for the user, not on their own).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { launchUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';
import { signInAtProviderTab, startUpstream, type Upstream } from '../support/upstream-provider.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const BROKERED = 'https://api.upstream.example.test/';

describe.skipIf(unavailable !== null)('first-run setup: connect a provider', () => {
  let test: TestBroker;
  let upstream: Upstream;
  let ui: UiBrowser;

  beforeAll(async () => {
    test = await startBroker();
    upstream = await startUpstream({ redirectUri: `${test.issuer}/oauth2/providers/callback` });
    ui = await launchUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    await upstream?.close();
    removeDataDir(test.dataDir);
  });

  it('the first resource is an account at a provider: added, connected in its tab, and a brokered resource made on it', async () => {
    const page = ui.page;
    await page.goto(test.broker.loginLink()!.url);
    await page.getByRole('heading', { level: 1, name: 'First-run setup' }).waitFor();
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.test');
    await page.getByRole('button', { name: 'Create the owner' }).click();
    await page.getByText('Signed in as').waitFor();

    const step = page.getByRole('region', { name: /A first resource/ });
    await step.getByRole('radio', { name: /Connect a provider/ }).check();
    await step.getByRole('heading', { name: 'Add the provider' }).waitFor();
    await step.getByLabel('Name').fill('Upstream');
    await step.getByRole('textbox', { name: 'Issuer' }).fill(upstream.issuer);
    await step.getByLabel('Client ID').fill(upstream.clientId);
    const secret = step.getByLabel('Client secret (optional)');
    expect(await secret.getAttribute('type')).toBe('password');
    await secret.fill(upstream.clientSecret);
    await step.getByLabel('Scopes').fill('openid offline_access');
    await step.getByRole('button', { name: 'Add provider' }).click();
    await step.getByText('Not connected').waitFor();

    const [tab] = await Promise.all([ui.context.waitForEvent('page'), step.getByRole('button', { name: 'Connect Upstream' }).click()]);
    await signInAtProviderTab(tab, upstream, test.issuer);
    await tab.getByText('Your Upstream account is connected to Latchkey.').waitFor();
    await tab.close();
    // The setup page learns it live (the audit feed); "Check again" is there for when the feed is down.
    await step.getByText('Connected', { exact: true }).waitFor();
    await step.getByRole('button', { name: 'Check again' }).waitFor();

    await step.getByLabel('Name').fill('Upstream API');
    await step.getByLabel('Identifier').fill(BROKERED);
    await step.getByLabel('Upstream scopes').fill('api:read');
    await step.getByRole('button', { name: 'Add the resource' }).click();
    await step.getByText('Upstream API is stored.').waitFor();
    await page.getByRole('region', { name: /A first application/ }).getByText('Your account at a provider is reached by agents acting').waitFor();
    await ui.screenshot('setup-first-run-provider');

    const providers = (await test.admin('GET', '/providers')).body;
    expect(providers).toEqual([expect.objectContaining({ name: 'Upstream', status: 'connected', has_client_secret: true })]);
    const resources = (await test.admin('GET', '/resources')).body;
    expect(resources).toEqual([expect.objectContaining({ identifier: BROKERED, credential_type: 'brokered', provider_id: providers[0].id, upstream_scopes: ['api:read'] })]);
    expect(await page.content()).not.toContain(upstream.clientSecret);
    expect(ui.errors).toEqual([]);
  });
});
