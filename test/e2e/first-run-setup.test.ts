// First-run setup in Chromium, end to end: a fresh install's first-run link (no owner yet), the owner,
// the vault's passphrase, a vaulted resource whose secret is sent and never shown back, an application
// whose secret is shown once, and the snippet with which an agent then really gets the secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm, removeDataDir, startBroker, TEST_PASSPHRASE, type TestBroker } from '../support/broker.js';
import { launchUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const WEATHER = 'https://api.weather.example.test/';
const WEATHER_KEY = 'wk_live_7c1f0d9e-not-for-display';

describe.skipIf(unavailable !== null)('first-run setup in the browser', () => {
  let test: TestBroker;
  let ui: UiBrowser;

  beforeAll(async () => {
    // A data dir whose passphrase vault exists, started without the passphrase: the vault waits, as after a restart.
    const made = await startBroker();
    await made.close();
    test = await startBroker({ dataDir: made.dataDir, vault: 'locked' });
    ui = await launchUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  it('a fresh install\'s first-run link opens the setup page; the owner, the vault, a resource and an application are made by clicking', async () => {
    expect(test.broker.vaultStatus()).toMatchObject({ state: 'locked', backend: 'passphrase' });
    const link = test.broker.loginLink()!;
    expect(link.firstRun).toBe(true);
    const page = ui.page;
    await page.goto(link.url);
    await page.getByRole('heading', { level: 1, name: 'First-run setup' }).waitFor();
    await expect(page.getByText('First run: no owner yet').isVisible()).resolves.toBe(true);
    await ui.screenshot('setup-first-run');

    // 1. The owner.
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.test');
    await page.getByRole('button', { name: 'Create the owner' }).click();
    await page.getByText('Signed in as').waitFor();
    expect(test.broker.users.owner()).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.test' });
    // The first-run link is spent, and no second one opens anything now that there is an owner.
    expect((await fetch(link.url, { redirect: 'manual' })).status).toBe(400);

    // 2. The vault: its passphrase, as after a restart.
    await page.getByLabel('Passphrase', { exact: true }).fill('not the passphrase');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').filter({ hasText: /passphrase/i }).waitFor();
    expect(test.broker.vaultStatus().state).toBe('locked');
    await page.getByLabel('Passphrase', { exact: true }).fill(TEST_PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('The vault is open').waitFor();
    expect(test.broker.vaultStatus().state).toBe('unlocked');

    // 3. A vaulted resource: the secret is sent once and is nowhere on the page afterwards.
    await page.getByLabel('Name', { exact: true }).fill('Weather API');
    await page.getByLabel('Identifier').fill(WEATHER);
    await page.getByLabel('Secret (API key or password)').fill(WEATHER_KEY);
    await page.getByRole('button', { name: 'Store the resource' }).click();
    await page.getByText('its secret is sealed in the vault').waitFor();
    await expect(page.getByLabel('Secret (API key or password)').inputValue()).resolves.toBe('');
    expect(await page.content()).not.toContain(WEATHER_KEY);
    expect((await test.admin('GET', '/resources')).body).toEqual([expect.objectContaining({ identifier: WEATHER, credential_type: 'vaulted', has_secret: true })]);

    // 4. An application: its secret shown once, with a copy button.
    await page.getByLabel('Application name').fill('Research agent');
    await page.getByRole('button', { name: 'Create the application' }).click();
    const secretBox = page.getByLabel('client secret', { exact: true });
    await secretBox.waitFor();
    const clientSecret = (await secretBox.textContent())!;
    const clientId = (await page.getByLabel('client id', { exact: true }).first().textContent())!;
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.getByRole('button', { name: 'Copy client secret' }).click();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(clientSecret);

    // The snippet: the client id and the resource, not the secret; copyable.
    const snippet = (await page.locator('pre.snippet').textContent())!;
    expect(snippet).toContain(`curl -s -u "${clientId}:$LATCHKEY_CLIENT_SECRET"`);
    expect(snippet).toContain(`resource=${WEATHER}`);
    expect(snippet).toContain(`${test.issuer}/oauth2/token`);
    expect(snippet).not.toContain(clientSecret);
    await page.getByRole('button', { name: 'Copy the curl snippet' }).click();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(snippet);
    await ui.screenshot('setup-done');

    // What the snippet does, done by the agent: the vaulted secret comes back, released under policy and audited.
    const token = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: WEATHER }, { headers: { authorization: basicAuth(clientId, clientSecret) } });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ access_token: WEATHER_KEY, token_type: 'N_A' });

    // Shown once: after a reload the secret is gone from the UI for good.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'First-run setup' }).waitFor();
    expect(await page.content()).not.toContain(clientSecret);
    // The one failure was the mistyped passphrase.
    expect(ui.errors).toEqual(['400 POST /api/vault/unlock']);
  });
});
