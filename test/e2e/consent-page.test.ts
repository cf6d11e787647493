// The consent page of the authorization flow (server-rendered by the broker) in Chromium, reached
// through a real authorize URL: shown to the signed-in user, no CSP violation, Allow sends the code
// back to the client, which redeems it with its PKCE verifier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, removeDataDir, startBroker, type TestBroker } from '../support/broker.js';
import { ensureResource, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { launchUi, signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const NOTES = 'https://notes.example.test/api';

describe.skipIf(unavailable !== null)('the consent page in the browser', () => {
  let test: TestBroker;
  let app: DelegatedApp;
  const browsers: UiBrowser[] = [];

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read', 'notes:write']);
    app = await registerDelegatedApp(test, { name: 'Notes Agent', resources: [NOTES] });
  });
  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  const authorizeUrl = (challenge: string) => `${test.issuer}/oauth2/authorize?${new URLSearchParams({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: challenge,
    code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES, state: 'st-123',
  })}`;

  it('a signed-in user sees which application asks for what, allows it, and the client gets a code it can redeem', async () => {
    const ui = await signedInUi(test);
    browsers.push(ui);
    const { verifier, challenge } = pkce();
    // The client's redirect URI: caught here, as the agent's local listener would.
    let callback: URL | null = null;
    await ui.page.route(`${app.redirectUri}**`, (route) => {
      callback = new URL(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'agent got the code' });
    });
    await ui.page.goto(authorizeUrl(challenge));
    await ui.page.getByRole('heading', { level: 1, name: 'Allow Notes Agent to act for you?' }).waitFor();
    await ui.page.getByText('notes:read').first().waitFor();
    await ui.screenshot('consent-page');
    await ui.page.getByRole('button', { name: 'Allow' }).click();
    await ui.page.getByText('agent got the code').waitFor();

    expect(callback).not.toBeNull();
    const back = callback! as URL;
    expect(back.searchParams.get('state')).toBe('st-123');
    expect(back.searchParams.get('iss')).toBe(test.issuer);
    const token = await postForm(`${test.issuer}/oauth2/token`, {
      grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: app.redirectUri, code_verifier: verifier, client_id: app.clientId,
    });
    expect(token.status).toBe(200);
    expect(token.body.token_type).toBe('Bearer');
    expect(ui.errors).toEqual([]);
  });

  it('without a session the authorization page says how to sign in', async () => {
    const ui = await launchUi(test);
    browsers.push(ui);
    const response = await ui.page.goto(authorizeUrl(pkce().challenge));
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await ui.page.getByText('latchkey login-url').first().waitFor();
    await ui.screenshot('consent-page-signed-out');
    expect(ui.errors).toEqual([]);
  });
});
