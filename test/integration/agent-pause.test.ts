// "Pause all agents" (issue 6): a broker-wide switch. While on, the token endpoint (TCP and the local socket)
// and backchannel authentication refuse with 503 temporarily_unavailable, before anything is authenticated,
// spent or queued; revocation and introspection go on; the switch is audited and survives a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalPrompt } from '../../main/core/consent/prompter.js';
import { basicAuth, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { setupOwner } from '../support/browser.js';
import { postFormOverSocket } from '../support/local-socket.js';
import { auditHead, auditSince, expectRefused, expectUnchanged, snapshot } from '../support/refusals.js';

const CIBA = 'urn:openid:params:grant-type:ciba';
const NOTES = 'https://notes.example.test/api';
const PAUSED = { status: 503, error: 'temporarily_unavailable' } as const;

describe('pause all agents', () => {
  let test: TestBroker;
  let service: Service;
  let agent: { clientId: string; clientSecret: string };
  const prompted: ApprovalPrompt[] = [];

  const clientCredentials = () =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
  const overSocket = () =>
    postFormOverSocket(test.socket!, '/oauth2/token', { grant_type: 'client_credentials', resource: service.resource }, { authorization: basicAuth(service.clientId, service.clientSecret) });
  const askApproval = () =>
    postForm(`${test.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, scope: 'notes:read' }, { basic: [agent.clientId, agent.clientSecret] });
  const pollApproval = (authReqId: string) =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: authReqId }, { basic: [agent.clientId, agent.clientSecret] });
  const pause = (paused: unknown) => test.admin('POST', '/agents/pause', { paused });

  beforeAll(async () => {
    test = await startBroker({ socket: true, prompter: { approvalRequested: (prompt) => prompted.push(prompt) } });
    await setupOwner(test);
    service = await registerService(test);
    expect((await test.admin('POST', '/resources', { name: 'Notes', identifier: NOTES, scopes: ['notes:read'] })).status).toBe(201);
    const created = await test.admin('POST', '/applications', { name: 'Night agent', identity_type: 'agent', grant_types: ['ciba'], resources: [NOTES], scopes: ['notes:read'] });
    expect(created.status).toBe(201);
    agent = { clientId: created.body.client_id, clientSecret: created.body.client_secret };
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('is off at first: the status says so and agents get tokens', async () => {
    expect((await test.admin('GET', '/status')).body).toMatchObject({ agents_paused: false });
    expect((await clientCredentials()).status).toBe(200);
  });

  it('switched on, it is audited once, reported by the status, and refuses the token endpoint on TCP and on the socket', async () => {
    const before = auditHead(test);
    expect(await pause(true)).toEqual({ status: 200, body: { paused: true } });
    // Switching it on again changes nothing and writes nothing.
    expect(await pause(true)).toEqual({ status: 200, body: { paused: true } });
    expect(auditSince(test, before).map((row) => [row.event, row.decision])).toEqual([['agents.paused', 'info']]);
    expect((await test.admin('GET', '/status')).body).toMatchObject({ agents_paused: true });

    const refused = await expectRefused(test, clientCredentials, { ...PAUSED, secrets: [service.clientSecret] });
    expect(refused.body.error_description).toBe('agents are paused by the user');
    const socket = await expectRefused(test, overSocket, PAUSED);
    expect(socket.body.error_description).toBe('agents are paused by the user');
  });

  it('refuses backchannel authentication: nobody is prompted and nothing is queued', async () => {
    const count = prompted.length;
    await expectRefused(test, askApproval, { ...PAUSED, secrets: [agent.clientSecret] });
    expect(prompted.length).toBe(count);
    expect((await test.admin('GET', '/approvals')).body).toEqual([]);
  });

  it('spends nothing: an approval the user gave before the pause is still redeemable after it', async () => {
    await pause(false);
    const asked = await askApproval();
    expect(asked.status).toBe(200);
    const approvalId = prompted.at(-1)!.id;
    expect((await test.admin('POST', `/approvals/${approvalId}/approve`, {})).status).toBe(200);
    await pause(true);
    await expectRefused(test, () => pollApproval(asked.body.auth_req_id), PAUSED);
    await pause(false);
    const redeemed = await pollApproval(asked.body.auth_req_id);
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect(redeemed.body.access_token).toEqual(expect.any(String));
  });

  it('lets revocation and introspection go on while paused', async () => {
    const token = (await clientCredentials()).body.access_token as string;
    await pause(true);
    const basic: [string, string] = [service.clientId, service.clientSecret];
    expect((await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic })).body).toMatchObject({ active: true });
    expect((await postForm(`${test.issuer}/oauth2/token/revoke`, { token }, { basic })).status).toBe(200);
    expect((await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic })).body).toMatchObject({ active: false });
    await pause(false);
  });

  it('survives a restart: a crash or a reboot does not let agents back in', async () => {
    await pause(true);
    test = await test.restart();
    expect((await test.admin('GET', '/status')).body).toMatchObject({ agents_paused: true });
    await expectRefused(test, clientCredentials, PAUSED);
    const before = auditHead(test);
    expect(await pause(false)).toEqual({ status: 200, body: { paused: false } });
    expect(auditSince(test, before).map((row) => row.event)).toEqual(['agents.resumed']);
    test = await test.restart();
    expect((await test.admin('GET', '/status')).body).toMatchObject({ agents_paused: false });
    expect((await clientCredentials()).status).toBe(200);
  });

  it('refuses a malformed switch (invalid_request) and one without the admin token (401), changing nothing', async () => {
    const before = snapshot(test);
    const head = auditHead(test);
    for (const body of [{ paused: 'yes' }, {}, { paused: true, extra: 1 }]) {
      expect(await test.admin('POST', '/agents/pause', body)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    }
    const anonymous = await fetch(`${test.issuer}/api/agents/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paused: true }) });
    expect(anonymous.status).toBe(401);
    expectUnchanged(test, before);
    expect(auditSince(test, head).filter((row) => row.event.startsWith('agents.'))).toEqual([]);
    expect((await test.admin('GET', '/status')).body).toMatchObject({ agents_paused: false });
  });
});
