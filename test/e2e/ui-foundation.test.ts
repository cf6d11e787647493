// The UI's foundation in Chromium: sign-in through a login link, every page reachable from the
// navigation with its heading, no CSP violation or script error, keyboard and narrow-window use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const PAGES: Array<[string, string, string]> = [
  ['/', 'Overview', 'overview'],
  ['/setup', 'First-run setup', 'setup'],
  ['/applications', 'Applications', 'applications'],
  ['/resources', 'Resources & providers', 'resources'],
  ['/policies', 'Policies', 'policies'],
  ['/consents', 'Consents & approvals', 'consents'],
  ['/audit', 'Audit log', 'audit'],
  ['/settings', 'Settings', 'settings'],
];

describe.skipIf(unavailable !== null)('the UI foundation', () => {
  let test: TestBroker;
  let ui: UiBrowser;

  beforeAll(async () => {
    test = await startBroker();
    await test.admin('POST', '/setup', { name: 'Ada Owner', email: 'ada@example.test' });
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  it('a login link signs the browser in and the UI says who is signed in', async () => {
    expect(new URL(ui.page.url()).pathname).toBe('/ui/');
    await expect(ui.page.getByText('Signed in as').textContent()).resolves.toContain('Ada Owner');
  });

  it('every page of the navigation opens with its heading, and none breaks the CSP', async () => {
    const nav = ui.page.getByRole('navigation', { name: 'Main' });
    for (const [route, title, shot] of PAGES) {
      await nav.getByRole('link', { name: title, exact: true }).click();
      await ui.page.getByRole('heading', { level: 1, name: title }).waitFor();
      expect(new URL(ui.page.url()).hash).toBe(`#${route}`);
      await expect(nav.getByRole('link', { name: title, exact: true }).getAttribute('aria-current')).resolves.toBe('page');
      await ui.screenshot(`foundation-${shot}`);
    }
    // A build without brokered access answers 404 at /api/providers; the resources page says so.
    expect(ui.errors.filter((error) => !/status of 404 .*\/api\/providers\)$/.test(error))).toEqual([]);
  });

  it('the keyboard reaches the skip link first, and it moves focus to the page heading', async () => {
    await ui.go('/applications', 'Applications');
    await ui.page.keyboard.press('Tab');
    const focused = ui.page.locator(':focus');
    await expect(focused.textContent()).resolves.toBe('Skip to content');
    await ui.page.keyboard.press('Enter');
    await expect(ui.page.locator(':focus').textContent()).resolves.toBe('Applications');
  });

  it('at a narrow window the navigation stays usable above the page', async () => {
    await ui.page.setViewportSize({ width: 380, height: 800 });
    await ui.go('/settings', 'Settings');
    const nav = ui.page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Applications', exact: true }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
    const width = await ui.page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(380);
    await ui.screenshot('foundation-narrow');
    await ui.page.setViewportSize({ width: 1280, height: 860 });
  });

  it('an unknown route says so', async () => {
    await ui.go('/nowhere', 'Page not found');
  });

  it('signing out ends the session: the UI says how to get a new link', async () => {
    await ui.page.getByRole('button', { name: 'Sign out' }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Signed out' }).waitFor();
    await ui.page.reload();
    await ui.page.getByRole('heading', { level: 1, name: 'Signed out' }).waitFor();
    await ui.screenshot('signed-out');
  });
});
