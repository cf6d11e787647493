// The Policies page in Chromium against a real broker (real Cedar): the defaults marked; a policy with a
// syntax error rejected with its line shown, and not saved; a valid one saved and in force; a template
// used; the what-if simulator answering from the policies in force; removal after a confirmation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const NOTES = 'https://notes.example.test/api';

describe.skipIf(unavailable !== null)('policies page', () => {
  let test: TestBroker;
  let ui: UiBrowser;
  let appId: string;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read', 'notes:write'] });
    appId = (await test.admin('POST', '/applications', { name: 'Indexer', identity_type: 'service', grant_types: ['client_credentials'], resources: [NOTES] })).body.client_id;
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  const page = () => ui.page;
  const editor = () => page().getByRole('textbox', { name: 'Cedar policy' });
  const stored = async () => (await test.admin('GET', '/policies')).body.policies as Array<{ id: string; text: string; description: string | null }>;

  it('lists the defaults, marked as such, and says there are none of your own yet', async () => {
    await ui.go('/policies', 'Policies');
    const list = page().locator('.policy-list');
    await list.getByText('default.dependencies', { exact: true }).waitFor();
    await list.getByText('default.delegation_depth', { exact: true }).waitFor();
    expect(await page().locator('.policy-item .badge', { hasText: 'Default' }).count()).toBe(2);
    await page().getByText('No policies of your own yet').waitFor();
  });

  it('a policy with a syntax error is rejected with its line shown, and cannot be saved', async () => {
    await editor().fill('// Only reads\nforbid (principal, action, resource)\nwhen { context.delegation_depth > };');
    const problem = page().locator('.policy-problems li').first();
    await problem.waitFor();
    await expect(problem.textContent()).resolves.toMatch(/^Line 3: /);
    expect(await editor().getAttribute('aria-invalid')).toBe('true');
    await expect(page().locator('.gutter-bad').textContent()).resolves.toContain('3');
    expect(await page().getByRole('button', { name: 'Save policy' }).isDisabled()).toBe(true);
    await ui.screenshot('policies-invalid');
    expect(await stored()).toEqual([]);
  });

  it('an entity the schema does not know is rejected at its line too', async () => {
    await editor().fill('permit (\n  principal == Robot::"r2",\n  action, resource\n);');
    await page().locator('.policy-problems li').first().waitFor();
    await expect(page().locator('.policy-problems').textContent()).resolves.toMatch(/Line 2: /);
  });

  it('a valid policy validates live and saves: it is listed and in force', async () => {
    await editor().fill('// Only reads\nforbid (principal, action, resource)\nwhen { context.delegation_depth > 1 };');
    await page().getByText('Valid: 1 statement.').waitFor();
    await page().getByLabel('Description (optional)').fill('At most one exchange');
    await page().getByRole('button', { name: 'Save policy' }).click();
    await page().getByRole('status').getByText(/saved: it is in force now/).waitFor();
    const [saved] = await stored();
    expect(saved).toMatchObject({ description: 'At most one exchange', text: expect.stringContaining('delegation_depth > 1') });
    await page().getByRole('button', { name: `Remove policy ${saved!.id}` }).waitFor();
    expect(await editor().inputValue()).toBe('');
  });

  it('what-if answers from the policies in force: allowed, then denied by a template once saved', async () => {
    const whatIf = page().locator('section', { has: page().getByRole('heading', { name: 'What if…' }) });
    await whatIf.getByLabel('Method').selectOption('autonomous');
    await whatIf.getByRole('button', { name: 'Try it' }).click();
    await whatIf.getByText('Allowed', { exact: true }).waitFor();
    await expect(whatIf.locator('.whatif-result').textContent()).resolves.toContain('default.dependencies');

    await page().getByRole('button', { name: 'Use template: Block an application' }).click();
    await expect(editor().inputValue()).resolves.toBe(`forbid (principal == Application::"${appId}", action, resource);`);
    await page().getByText('Valid: 1 statement.').waitFor();
    await page().getByRole('button', { name: 'Save policy' }).click();
    await page().getByRole('status').getByText(/saved: it is in force now/).waitFor();

    await whatIf.getByRole('button', { name: 'Try it' }).click();
    await whatIf.getByText('Denied', { exact: true }).waitFor();
    const blocking = (await stored()).find((policy) => policy.text.includes(appId))!;
    await expect(whatIf.locator('.whatif-result').textContent()).resolves.toContain(blocking.id);
    await ui.screenshot('policies');
  });

  it('every template fills the editor with a policy the broker finds valid', async () => {
    for (const button of await page().getByRole('button', { name: /^Use template: / }).all()) {
      await button.click();
      await page().getByText(/^Valid: 1 statement\.$/).waitFor();
    }
  });

  it('removing a policy asks first, then takes it out of force', async () => {
    const blocking = (await stored()).find((policy) => policy.text.includes(appId))!;
    await page().getByRole('button', { name: `Remove policy ${blocking.id}` }).click();
    const dialog = page().getByRole('dialog', { name: 'Remove this policy?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await stored()).map((policy) => policy.id)).toContain(blocking.id);
    await page().getByRole('button', { name: `Remove policy ${blocking.id}` }).click();
    await dialog.getByRole('button', { name: 'Remove policy' }).click();
    await page().getByRole('status').getByText(`Policy ${blocking.id} removed.`).waitFor();
    expect((await stored()).map((policy) => policy.id)).not.toContain(blocking.id);
    expect((await test.admin('POST', '/policies/test', { app: appId, resource: NOTES, action: 'autonomous' })).body).toMatchObject({ allowed: true });
    // Chromium logs each refusal of live validation (400) the test asked for.
    expect(ui.errors.filter((error) => error !== '400 POST /api/policies/validate')).toEqual([]);
  });

  it('at a narrow window the page stays within it', async () => {
    await page().setViewportSize({ width: 380, height: 800 });
    await ui.go('/policies', 'Policies');
    await page().getByText('default.dependencies', { exact: true }).waitFor();
    expect(await page().evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(380);
    await ui.screenshot('policies-narrow');
    await page().setViewportSize({ width: 1280, height: 860 });
  });
});
