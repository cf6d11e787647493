// The Applications page in Chromium: create an application and see its secret once (copy buttons), a
// self-registered client marked unverified, a private_key_jwt application from a pasted JWKS, and one
// application's page: grants, resources and scopes as checkbox lists (removing a dependency ends its
// tokens there), consent mode, API keys shown once and revoked, disable, delete after confirming.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm, postJson, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { clientAssertion, jwksOf, newClientKey } from '../support/client-keys.js';
import { setupOwner } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const NOTES = 'https://notes.example.test/api';

describe.skipIf(unavailable !== null)('the Applications page', () => {
  let test: TestBroker;
  let ui: UiBrowser;

  beforeAll(async () => {
    test = await startBroker({ registrationLimits: { perMinute: 100, burst: 100 } });
    await setupOwner(test);
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  it('with none yet, the page says how to add the first', async () => {
    await ui.go('/applications', 'Applications');
    await ui.page.getByText('No applications yet').waitFor();
    await ui.screenshot('applications-empty');
  });

  it('creating an application shows its secret once, with copy buttons; it works, and it is never shown again', async () => {
    await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] });
    await ui.go('/applications', 'Applications');
    const page = ui.page;
    await page.getByRole('button', { name: 'New application' }).click();
    const dialog = page.getByRole('dialog', { name: 'New application' });
    await dialog.getByLabel('Name').fill('Indexer');
    await dialog.getByLabel('Kind').selectOption('service');
    await dialog.getByRole('checkbox', { name: /Notes/ }).check();
    await ui.screenshot('applications-create');
    await dialog.getByRole('button', { name: 'Create' }).click();

    const created = page.getByRole('dialog', { name: 'Application created' });
    const secret = (await created.getByLabel('client secret', { exact: true }).textContent())!;
    const clientId = (await created.getByLabel('client id', { exact: true }).textContent())!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await created.getByRole('button', { name: 'Copy client secret' }).click();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(secret);
    await created.getByRole('button', { name: 'Copy client id' }).click();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(clientId);
    await ui.screenshot('applications-created-secret');

    // The secret is the real one: the application gets a token with it.
    const token = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { headers: { authorization: basicAuth(clientId, secret) } });
    expect(token.status).toBe(200);

    await created.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'Indexer' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByRole('link', { name: 'Indexer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Indexer' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect((await test.admin('GET', `/applications/${clientId}`)).body).not.toHaveProperty('client_secret');
  });

  it('a self-registered client is marked unverified', async () => {
    const registered = await postJson(`${test.issuer}/oauth2/register`, { client_name: 'Totally Official Agent', redirect_uris: ['http://127.0.0.1:49152/cb'], token_endpoint_auth_method: 'none' });
    expect(registered.status).toBe(201);
    await ui.go('/applications', 'Applications');
    const row = ui.page.getByRole('row').filter({ hasText: 'Totally Official Agent' });
    await row.getByText('unverified').waitFor();
    await expect(ui.page.getByRole('row').filter({ hasText: 'Indexer' }).getByText('unverified').count()).resolves.toBe(0);
    await ui.screenshot('applications-list');
    await row.getByRole('link').click();
    await ui.page.getByText('Unverified.').waitFor();
  });

  it('one application\'s page changes its grants, resources, scopes and consent mode through the admin API', async () => {
    const other = 'https://calendar.example.test/api';
    await test.admin('POST', '/resources', { name: 'Calendar', identifier: other, scopes: ['cal:read', 'cal:write'] });
    const app = (await test.admin('POST', '/applications', { name: 'Planner', identity_type: 'agent' })).body;
    await ui.go(`/applications/${app.client_id}`, 'Planner');
    const page = ui.page;
    const access = page.getByRole('form', { name: 'What it may do and reach' });
    const save = access.getByRole('button', { name: 'Save changes' });
    // Nothing changed yet: nothing to save.
    expect(await save.isDisabled()).toBe(true);
    await access.getByRole('checkbox', { name: 'API key' }).check();
    await access.getByRole('checkbox', { name: /Calendar/ }).check();
    await access.getByRole('checkbox', { name: 'Any scope of its resources' }).uncheck();
    await access.getByRole('group', { name: 'Calendar' }).getByRole('checkbox', { name: 'cal:write' }).uncheck();
    await ui.screenshot('application-access-edit');
    await save.click();
    await page.getByText('Changes saved.').waitFor();
    await page.getByLabel('Consent mode').selectOption('implicit');
    await page.getByText('Consent mode changed.').waitFor();
    const view = (await test.admin('GET', `/applications/${app.client_id}`)).body;
    expect(view.grant_types).toEqual(['client_credentials', 'urn:latchkey:params:oauth:grant-type:api-key']);
    expect(view.resources).toEqual([other]);
    expect(view.scopes).toEqual(['cal:read']);
    expect(view.consent_mode).toBe('implicit');

    // What the broker refuses is said on the page, and nothing changes: a public-only grant set is not one.
    await access.getByRole('checkbox', { name: 'Client credentials (acts on its own)' }).uncheck();
    await access.getByRole('checkbox', { name: 'API key' }).uncheck();
    await access.getByRole('checkbox', { name: 'Refresh token' }).check();
    await save.click();
    await page.getByRole('alert').filter({ hasText: /refresh_token comes with authorization_code or ciba/ }).waitFor();
    expect((await test.admin('GET', `/applications/${app.client_id}`)).body.grant_types).toEqual(view.grant_types);
    // The refusal is the one error the page saw (the harness records every 4xx).
    expect(ui.errors).toEqual([expect.stringMatching(/^400 PATCH \/api\/applications\//)]);
    ui.errors.length = 0;
    await ui.screenshot('application-detail');
  });

  it('removing a dependency on the page ends its tokens there: the next token request for it is refused (invalid_target)', async () => {
    const mail = 'https://mail.example.test/api';
    await test.admin('POST', '/resources', { name: 'Mail', identifier: mail, scopes: ['mail:read'] });
    const app = (await test.admin('POST', '/applications', { name: 'Digest', identity_type: 'service', resources: [NOTES, mail] })).body;
    const credentials = { headers: { authorization: basicAuth(app.client_id, app.client_secret) } };
    const before = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: mail }, credentials);
    expect(before.status).toBe(200);

    await ui.go(`/applications/${app.client_id}`, 'Digest');
    const access = ui.page.getByRole('form', { name: 'What it may do and reach' });
    await access.getByRole('checkbox', { name: /Mail/ }).uncheck();
    await access.getByText(/revokes its live tokens there at once/).waitFor();
    await access.getByRole('button', { name: 'Save changes' }).click();
    await ui.page.getByText('Changes saved. Its live tokens for the removed resources are revoked.').waitFor();
    await ui.screenshot('application-dependency-removed');

    const refused = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: mail }, credentials);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    const introspected = await postForm(`${test.issuer}/oauth2/token/introspect`, { token: before.body.access_token }, credentials);
    expect(introspected.body).toEqual({ active: false });
    expect((await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, credentials)).status).toBe(200);
    expect(ui.errors).toEqual([]);
  });

  it('creates a private_key_jwt application from a pasted JWKS (checked before it is sent); it signs in with its key', async () => {
    const key = await newClientKey('ES256');
    await ui.go('/applications', 'Applications');
    const page = ui.page;
    await page.getByRole('button', { name: 'New application' }).click();
    const dialog = page.getByRole('dialog', { name: 'New application' });
    await dialog.getByLabel('Name').fill('Key holder');
    await dialog.getByLabel('How it proves who it is').selectOption('private_key_jwt');
    await dialog.getByRole('checkbox', { name: /Notes/ }).check();
    const jwks = dialog.getByLabel('Public keys (JWKS)');
    await jwks.fill('{"keys": "not a list"}');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText('This is not a key set').waitFor();
    expect(await jwks.getAttribute('aria-invalid')).toBe('true');
    await jwks.fill(JSON.stringify(jwksOf(key)));
    await ui.screenshot('applications-create-private-key-jwt');
    await dialog.getByRole('button', { name: 'Create' }).click();

    const created = page.getByRole('dialog', { name: 'Application created' });
    const clientId = (await created.getByLabel('client id', { exact: true }).textContent())!;
    await expect(created.getByLabel('client secret', { exact: true }).count()).resolves.toBe(0);
    expect((await test.admin('GET', `/applications/${clientId}`)).body).toMatchObject({ auth_method: 'private_key_jwt', has_jwks: true, client_type: 'confidential' });
    const assertion = await clientAssertion(key, clientId, `${test.issuer}/oauth2/token`);
    const token = await postForm(`${test.issuer}/oauth2/token`, {
      grant_type: 'client_credentials', resource: NOTES, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(token.status, token.text).toBe(200);
    await created.getByRole('button', { name: 'Done' }).click();
    expect(ui.errors).toEqual([]);
  });

  it('an API key is shown once on creation, works, and is revoked after confirming', async () => {
    const app = (await test.admin('POST', '/applications', { name: 'Keyed', identity_type: 'service', grant_types: ['client_credentials', 'api_key'], resources: [NOTES] })).body;
    await ui.go(`/applications/${app.client_id}`, 'Keyed');
    const page = ui.page;
    await page.getByRole('button', { name: 'Create an API key' }).click();
    const shown = page.getByRole('dialog', { name: 'API key created' });
    const apiKey = (await shown.getByLabel('API key', { exact: true }).textContent())!;
    expect(apiKey).toMatch(/^lk_sk_/);
    await ui.screenshot('application-api-key');
    await shown.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(apiKey);
    const grant = () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'api_key', api_key: apiKey, resource: NOTES });
    expect((await grant()).status).toBe(200);

    const keyId = (await test.admin('GET', `/api-keys?client_id=${app.client_id}`)).body[0].id;
    await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
    await page.getByRole('dialog', { name: 'Revoke this API key?' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No API keys.').waitFor();
    expect((await grant()).status).toBe(400);
  });

  it('disable and enable; delete asks first, and Cancel keeps the application', async () => {
    const app = (await test.admin('POST', '/applications', { name: 'Short-lived', identity_type: 'service', resources: [NOTES] })).body;
    await ui.go(`/applications/${app.client_id}`, 'Short-lived');
    const page = ui.page;
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Disabled: it gets no new tokens.').waitFor();
    expect((await test.admin('GET', `/applications/${app.client_id}`)).body.enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Enabled.').waitFor();
    expect((await test.admin('GET', `/applications/${app.client_id}`)).body.enabled).toBe(true);

    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Short-lived?' });
    await ui.screenshot('application-delete-confirm');
    // Focus starts on Cancel; Escape closes the dialog too.
    await expect(confirm.getByRole('button', { name: 'Cancel' }).evaluate((element) => element === element.ownerDocument.activeElement)).resolves.toBe(true);
    await page.keyboard.press('Escape');
    expect((await test.admin('GET', `/applications/${app.client_id}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await confirm.getByRole('button', { name: 'Delete application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
    expect((await test.admin('GET', `/applications/${app.client_id}`)).status).toBe(404);
    expect(ui.errors).toEqual([]);
  });
});
