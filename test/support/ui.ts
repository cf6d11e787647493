// The UI under a real browser: Debian's Chromium driven by playwright-core (its own browsers cannot be
// downloaded here), against a real test broker, signed in through a one-time login link as a person
// would. Every page a test visits can be saved as a screenshot in test-artifacts/screenshots/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TestBroker } from './broker.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-artifacts/screenshots');
const UI_INDEX = resolve(import.meta.dirname, '../../renderer/dist/index.html');

/** Why the browser tests cannot run here, or null when they can. Printed by the tests that skip. */
export function uiTestsUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (npm test installs Debian's chromium; install it with: apt-get install chromium)`;
  if (!existsSync(UI_INDEX)) return 'the UI is not built (renderer/dist): run npm run build';
  return null;
}

export interface UiBrowser {
  page: Page;
  context: BrowserContext;
  /**
   * What went wrong in the page: console errors (CSP violations among them), uncaught exceptions, and
   * responses of 400 and above as `STATUS METHOD PATH`.
   */
  errors: string[];
  /** Opens a route of the UI (`/applications`) and waits for its heading. */
  go(route: string, heading?: string | RegExp): Promise<void>;
  /** Saves a full-page screenshot as test-artifacts/screenshots/NAME.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A fresh Chromium profile, not yet signed in. */
export async function launchUi(test: TestBroker, options: { width?: number; height?: number } = {}): Promise<UiBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'latchkey-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    // The clipboard, for the copy buttons.
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  // Under the test's own timeout, so a missing element fails with Playwright's account of what it waited for.
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  // A failed request is reported with its URL (the console's "Failed to load resource" line has none).
  page.on('console', (message) => { if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', (response) => {
    const failure = `${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`;
    if (response.status() >= 400) errors.push(failure);
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page,
    context,
    errors,
    async go(route, heading) {
      const url = `${test.issuer}/ui/#${route}`;
      // Going to the URL the page is at would change nothing: load it afresh, as a person reloading would.
      if (page.url() === url) await page.reload();
      else await page.goto(url);
      if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    },
    async screenshot(name) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A fresh Chromium profile signed in to the UI through a one-time login link (as `latchkey login-url` gives). */
export async function signedInUi(test: TestBroker, options: { width?: number; height?: number } = {}): Promise<UiBrowser> {
  const ui = await launchUi(test, options);
  try {
    const link = await test.admin('POST', '/login-links', {});
    if (link.status !== 201) throw new Error(`login link refused: ${JSON.stringify(link.body)}`);
    await ui.page.goto(link.body.url);
    await ui.page.getByRole('navigation', { name: 'Main' }).waitFor();
  } catch (error) {
    await ui.close();
    throw error;
  }
  return ui;
}
