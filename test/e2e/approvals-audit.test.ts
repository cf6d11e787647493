// Consents & approvals and the audit log in Chromium against a real broker: an agent asks through CIBA
// (POST /oauth2/bc-authorize), its request appears live, the user approves it by clicking (remembered for a
// day), the agent's poll gets its tokens, and the issuance appears live in the audit log with its chain
// user → agent → resource; filters, export and chain verification; revoking the consent ends the agent's
// refresh token; a denial answers the agent access_denied.
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, removeDataDir, startBroker, type HttpResult, type TestBroker } from '../support/broker.js';
import { setupOwner, TestClock } from '../support/browser.js';
import { signedInUi, uiTestsUnavailable, type UiBrowser } from '../support/ui.js';

const unavailable = uiTestsUnavailable();
if (unavailable) console.warn(`skipping the UI tests: ${unavailable}`);

const CIBA = 'urn:openid:params:grant-type:ciba';
const NOTES = 'https://notes.example.test/api';

describe.skipIf(unavailable !== null)('approvals and the audit log', () => {
  let test: TestBroker;
  let ui: UiBrowser;
  const clock = new TestClock();
  let agent: { clientId: string; clientSecret: string };
  let tokens: { access_token: string; refresh_token: string };
  let ownerId: string;

  beforeAll(async () => {
    test = await startBroker({ clock });
    ownerId = await setupOwner(test);
    await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read', 'notes:write'] });
    const created = await test.admin('POST', '/applications', { name: 'Night agent', identity_type: 'agent', grant_types: ['ciba', 'refresh_token'], resources: [NOTES], scopes: ['notes:read', 'notes:write'] });
    agent = { clientId: created.body.client_id, clientSecret: created.body.client_secret };
    ui = await signedInUi(test);
  });
  afterAll(async () => {
    await ui?.close();
    await test?.close();
    removeDataDir(test.dataDir);
  });

  const page = () => ui.page;
  const ask = (params: Record<string, string> = {}): Promise<HttpResult> =>
    postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read', ...params }, { basic: [agent.clientId, agent.clientSecret] });
  const poll = (authReqId: string): Promise<HttpResult> =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: authReqId }, { basic: [agent.clientId, agent.clientSecret] });
  const live = () => page().locator('.badge', { hasText: 'live' }).first().waitFor();

  it('an agent\'s request appears live, its binding message as text, and the user approves it: the poll gets the tokens', async () => {
    await ui.go('/consents', 'Consents & approvals');
    await page().getByText('No agent is waiting for your approval').waitFor();
    await live();

    const asked = await ask({ binding_message: 'Night agent <job 42>' });
    expect(asked.status, asked.text).toBe(200);
    expect((await poll(asked.body.auth_req_id)).body.error).toBe('authorization_pending');

    // No reload: the request comes over the live feed.
    const card = page().getByRole('article', { name: 'Approval request from Night agent' });
    await card.waitFor();
    await expect(card.locator('q').textContent()).resolves.toBe('Night agent <job 42>');
    expect(await card.locator('job').count()).toBe(0);
    await card.getByText('notes:read').waitFor();
    await ui.screenshot('consents-pending');

    await card.getByLabel('Remember for').selectOption({ label: '1 day' });
    await card.getByRole('button', { name: 'Approve' }).click();
    await page().getByRole('status').getByText('Approved Night agent, remembered for 1 day.').waitFor();
    await page().getByText('No agent is waiting for your approval').waitFor();

    // The issuance is watched for on the audit page as it happens.
    await ui.go('/audit', 'Audit log');
    await live();
    clock.advance(5_000);
    const answered = await poll(asked.body.auth_req_id);
    expect(answered.status, answered.text).toBe(200);
    tokens = answered.body;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: NOTES, client_id: agent.clientId, scope: 'notes:read', grant_type: CIBA });
  });

  it('the issuance appears live in the audit log with its chain user → agent → resource', async () => {
    const chain = page().getByRole('list', { name: 'Delegation chain: Ada Lovelace → Night agent → Notes' });
    await chain.waitFor();
    const row = page().getByRole('row').filter({ has: chain });
    await row.getByText('token.issued').waitFor();
    await row.getByText('CIBA').waitFor();
    await row.getByText('allow', { exact: true }).waitFor();
    await ui.screenshot('audit');
  });

  it('filters by decision, application and time', async () => {
    const chain = page().getByRole('list', { name: /^Delegation chain: Ada Lovelace → Night agent → Notes$/ });
    const filters = page().getByRole('form', { name: 'Filter the audit log' });
    await filters.getByLabel('Decision').selectOption('deny');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page().getByRole('table').or(page().getByText('No rows match these filters')).first().waitFor();
    await expect.poll(() => chain.count()).toBe(0);

    await filters.getByLabel('Decision').selectOption('allow');
    await filters.getByLabel('Application').selectOption({ label: 'Night agent' });
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await chain.waitFor();
    const decisions = await page().locator('tbody tr .badge').allTextContents();
    expect(decisions.length).toBeGreaterThan(0);
    expect(new Set(decisions)).toEqual(new Set(['allow']));
    const events = await page().locator('tbody tr td:nth-child(3) code').allTextContents();
    expect(events).toContain('token.issued');
    expect(events.every((event) => !event.startsWith('admin.'))).toBe(true);

    await filters.getByLabel('From').fill('2099-01-01T00:00:00');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page().getByText('No rows match these filters').waitFor();
    await filters.getByLabel('From').fill('2000-01-01T00:00:00');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await chain.waitFor();
    // By user and resource: the owner's token for Notes; nobody else's.
    await filters.getByLabel('Resource').selectOption({ label: 'Notes' });
    await filters.getByLabel('User').fill(ownerId);
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await chain.waitFor();
    await filters.getByLabel('User').fill('usr_somebody_else');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page().getByText('No rows match these filters').waitFor();
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page().getByRole('row').count()).toBeGreaterThan(5);
  });

  it('verifies the hash chain and exports the log as a download, without any token in it', async () => {
    await page().getByRole('button', { name: 'Verify chain' }).click();
    const rows = (await test.admin('GET', '/audit/verify')).body.rows;
    await page().getByText(`The chain is intact: all ${rows} rows follow one another, none changed.`).waitFor();

    for (const [label, file] of [['Export CSV', 'latchkey-audit.csv'], ['Export JSONL', 'latchkey-audit.jsonl']] as const) {
      const [download] = await Promise.all([page().waitForEvent('download'), page().getByRole('link', { name: label }).click()]);
      expect(download.suggestedFilename()).toBe(file);
      const text = readFileSync((await download.path())!, 'utf8');
      expect(text).toContain('token.issued');
      expect(text).toContain(decodeJwt(tokens.access_token).jti);
      for (const secret of [tokens.access_token.split('.')[2]!, tokens.refresh_token, agent.clientSecret]) expect(text).not.toContain(secret);
    }
  });

  it('the export links carry the filters: a filtered download holds every matching row and nothing else', async () => {
    const filters = page().getByRole('form', { name: 'Filter the audit log' });
    await filters.getByLabel('Decision').selectOption('allow');
    await filters.getByLabel('Application').selectOption({ label: 'Night agent' });
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page().getByRole('link', { name: 'Export JSONL' }).getAttribute('href')).toContain(`client_id=${agent.clientId}`);
    const [download] = await Promise.all([page().waitForEvent('download'), page().getByRole('link', { name: 'Export JSONL' }).click()]);
    const exported = readFileSync((await download.path())!, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    const matching = (await test.admin('GET', `/audit?client_id=${agent.clientId}&decision=allow&limit=10000`)).body as Array<{ seq: number }>;
    expect(exported.map((row) => row.seq)).toEqual(matching.map((row) => row.seq).reverse());
    expect(exported.every((row) => row.client_id === agent.clientId && row.decision === 'allow')).toBe(true);
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page().getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/api/audit/export?format=csv');
  });

  it('more than 200 rows: Show older pages back, each row once, until the first', async () => {
    // Refusals the agent provokes (a grant it was not given): each is a row of the audit log.
    for (let i = 0; i < 210; i++) await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [agent.clientId, agent.clientSecret] });
    const total = (await test.admin('GET', '/audit/verify')).body.rows as number;
    expect(total).toBeGreaterThan(210);
    expect(total).toBeLessThan(400);
    await ui.go('/audit', 'Audit log');
    const rows = page().locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(200);
    await page().getByRole('button', { name: 'Show older' }).click();
    await expect.poll(() => rows.count()).toBe(total);
    await expect(page().getByRole('button', { name: 'Show older' }).count()).resolves.toBe(0);
    const seqs = (await page().locator('tbody tr td:first-child').allTextContents()).map(Number);
    expect(seqs).toEqual(Array.from({ length: total }, (_, index) => total - index));
    await page().getByRole('table', { name: `Audit log, newest first (${total} rows)` }).waitFor();
    // Those refusals were the harness's own doing: the page saw none of them as errors.
    expect(ui.errors).toEqual([]);
  });

  it('the remembered approval is listed, and revoking it ends the agent\'s refresh token', async () => {
    await ui.go('/consents', 'Consents & approvals');
    const row = page().getByRole('row').filter({ hasText: 'Night agent' });
    await row.getByText(/^Remembered until /).waitFor();
    await ui.screenshot('consents');
    await row.getByRole('button', { name: 'Revoke Night agent' }).click();
    await page().getByRole('dialog', { name: 'Revoke this grant?' }).getByRole('button', { name: 'Revoke' }).click();
    await page().getByRole('status').getByText(/^Withdrawn: Night agent/).waitFor();
    await page().getByText('No consents').waitFor();
    const refreshed = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { basic: [agent.clientId, agent.clientSecret] });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('a request the user denies answers the agent access_denied', async () => {
    const asked = await ask({ scope: 'notes:write' });
    const card = page().getByRole('article', { name: 'Approval request from Night agent' });
    await card.getByText('notes:write').waitFor();
    await card.getByRole('button', { name: 'Deny' }).click();
    await page().getByRole('status').getByText('Denied Night agent.').waitFor();
    clock.advance(5_000);
    const answered = await poll(asked.body.auth_req_id);
    expect(answered.status).toBe(400);
    expect(answered.body.error).toBe('access_denied');
    expect(ui.errors).toEqual([]);
  });

  it('a background-access grant is listed apart, and revoking it withdraws it', async () => {
    const created = await test.admin('POST', '/applications', { name: 'Background indexer', identity_type: 'service', grant_types: ['token-exchange'], resources: [NOTES], consent_mode: 'implicit' });
    const clientId = created.body.client_id;
    expect((await test.admin('PATCH', `/applications/${clientId}`, { allow_impersonation: true })).status).toBe(200);
    const granted = await test.admin('POST', '/consents', { client_id: clientId, resources: [NOTES], scopes: ['notes:read'], background: true });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);

    await ui.go('/audit', 'Audit log');
    await ui.go('/consents', 'Consents & approvals');
    const table = page().getByRole('region', { name: 'Background-access grants' });
    const row = table.getByRole('row').filter({ hasText: 'Background indexer' });
    await row.getByText('Background access').waitFor();
    await row.getByRole('button', { name: 'Revoke Background indexer' }).click();
    await page().getByRole('dialog', { name: 'Revoke this grant?' }).getByRole('button', { name: 'Revoke' }).click();
    await page().getByRole('status').getByText(/no longer has this background access/).waitFor();
    await page().getByText('No background-access grants').waitFor();
    const consents = (await test.admin('GET', `/consents?client_id=${clientId}&include_revoked=true`)).body;
    expect(consents).toEqual([expect.objectContaining({ id: granted.body.id, background: true, revoked_at: expect.any(String) })]);
  });

  it('at a narrow window both pages stay within it (the audit table scrolls inside its own box)', async () => {
    await page().setViewportSize({ width: 380, height: 800 });
    for (const [route, title, shot] of [['/consents', 'Consents & approvals', 'consents-narrow'], ['/audit', 'Audit log', 'audit-narrow']] as const) {
      await ui.go(route, title);
      await page().getByRole('button', { name: /Apply filters|Show withdrawn/ }).or(page().getByLabel('Show withdrawn')).first().waitFor();
      // Once the layout has settled at the new width.
      await expect.poll(() => page().evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(380);
      await ui.screenshot(shot);
    }
    await page().setViewportSize({ width: 1280, height: 860 });
  });
});
