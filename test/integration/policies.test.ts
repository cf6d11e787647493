// Policies in Cedar (issue 5 item 1), on the real engine (@cedar-policy/cedar-wasm): the default policies allow
// what registration allows; an admin forbid denies an issuance the registration would allow (access_denied,
// audited with the policy id, nothing issued); a policy that does not parse or validate is refused with its
// line and the old set stays; the delegation depth limit; the what-if endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEngine, type PolicyRequest } from '../../main/core/policy/policy-engine.js';
import { count, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { Browser, ensureResource, pkce, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';
import { auditHead, auditSince, expectFrontChannelRefused, expectRefused } from '../support/refusals.js';

const NOTES = 'https://notes.policy.test/api';

describe('the policy engine (real Cedar)', () => {
  const engine = new PolicyEngine();
  const base: PolicyRequest = {
    app: { clientId: 'app_x', name: 'X', identityType: 'agent', subType: null },
    trustLevel: 'shared_secret', action: 'autonomous',
    resource: { identifier: NOTES, name: 'Notes', credentialType: 'token' },
    grantType: 'client_credentials', scopes: ['notes:read'], delegationDepth: 0, actors: [], transport: 'tcp', user: null,
  };

  it('the defaults permit every method but impersonation, and the requests Latchkey builds match the schema', () => {
    for (const action of ['user_delegation', 'refresh', 'autonomous', 'delegation_chain'] as const) {
      const user = action === 'autonomous' ? null : { id: 'usr_1', email: 'ada@example.com' };
      expect(engine.decide({ ...base, action, user, app: { ...base.app, subType: 'orchestrator' } }, { validateRequest: true })).toEqual({ decision: 'allow', policies: ['default.dependencies'] });
    }
    // Nothing permits impersonation until a policy does.
    expect(engine.decide({ ...base, action: 'impersonation', transport: 'socket', delegationDepth: 1, user: { id: 'usr_1', email: 'a@b.c' } }, { validateRequest: true }))
      .toEqual({ decision: 'deny', policies: [] });
  });

  it('no delegation chain deeper than three', () => {
    const chain = { ...base, action: 'delegation_chain' as const, actors: ['app_a', 'app_b'] };
    expect(engine.decide({ ...chain, delegationDepth: 3 }).decision).toBe('allow');
    expect(engine.decide({ ...chain, delegationDepth: 4 })).toEqual({ decision: 'deny', policies: ['default.delegation_depth'] });
  });

  it('a decision remembered for a request is forgotten as soon as the policy set changes', () => {
    const request = { ...base, action: 'autonomous' as const, user: null };
    expect(engine.decide(request).decision).toBe('allow');
    expect(engine.decide(request).decision).toBe('allow');
    engine.load([{ id: 'f', text: `forbid (principal == Application::"${base.app.clientId}", action, resource);` }]);
    expect(engine.decide(request)).toEqual({ decision: 'deny', policies: ['f'] });
    // Another application: not the same request, not the same answer.
    expect(engine.decide({ ...request, app: { ...base.app, clientId: 'app_other' } }).decision).toBe('allow');
    engine.load([]);
    expect(engine.decide(request).decision).toBe('allow');
  });

  it('may a policy permit impersonation at all (partial evaluation, whatever the resource and the user)', () => {
    const may = () => engine.mayPermit(base.app, 'shared_secret', 'impersonation', { transport: 'socket', delegationDepth: 1 });
    expect(may()).toBe(false);
    engine.load([{ id: 'p', text: 'permit (principal == Application::"app_x", action == Action::"impersonation", resource) when { context has user && context.user.email == "a@b.c" };' }]);
    expect(may()).toBe(true);
    engine.load([{ id: 'f', text: 'forbid (principal, action == Action::"impersonation", resource);' }, { id: 'p', text: 'permit (principal, action, resource);' }]);
    expect(may()).toBe(false);
    engine.load([]);
    expect(may()).toBe(false);
  });

  it('names the line of a policy that does not parse or does not validate', () => {
    expect(() => engine.check('permit (principal, action, resource);\nforbid (principal, action resource);')).toThrow(/^line 2: /);
    expect(() => engine.check('// a comment\n\nforbid (principal, action, resource)\nwhen { context.depth > 1 };')).toThrow(/^line 4: .*depth/);
    expect(() => engine.check('permit (principal == User::"usr_1", action == Action::"autonomous", resource);')).toThrow(/^line 1: /);
  });
});

describe('policies at the broker', () => {
  let test: TestBroker;
  let service: Service;
  const token = (who: Service = service) =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: who.resource }, { basic: [who.clientId, who.clientSecret] });
  const lastIssued = () => JSON.parse((test.broker.db.prepare("SELECT detail FROM audit_log WHERE event = 'token.issued' ORDER BY seq DESC LIMIT 1").get() as { detail: string }).detail);

  beforeAll(async () => {
    test = await startBroker();
    service = await registerService(test);
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('the default policies allow what the registration allows, and the audit row says which policy decided', async () => {
    const result = await token();
    expect(result.status).toBe(200);
    expect(lastIssued()).toMatchObject({ policy: { decision: 'allow', policies: ['default.dependencies'] }, policy_action: 'autonomous' });
  });

  it('an admin forbid denies what the registration would allow: access_denied, audited with the policy id, nothing issued', async () => {
    const text = `// no autonomous access to this API for this service\nforbid (principal == Application::"${service.clientId}", action == Action::"autonomous", resource == Resource::"${service.resource}");`;
    const added = await test.admin('POST', '/policies', { text, description: 'test forbid' });
    expect(added.status).toBe(201);
    const policyId = added.body.id as string;
    expect(policyId).toMatch(/^pol_/);

    const before = count(test, 'issued_tokens');
    const head = auditHead(test);
    const refused = await expectRefused(test, () => token(), { status: 400, error: 'access_denied' });
    // The client learns that policy refused, not which policy or what it says.
    expect(refused.text).not.toContain(policyId);
    expect(refused.text).not.toContain('forbid');
    expect(count(test, 'issued_tokens')).toBe(before);
    const [row] = auditSince(test, head);
    expect(row).toMatchObject({ event: 'token.refused', decision: 'deny', client_id: service.clientId });
    expect(JSON.parse(row!.detail!)).toMatchObject({ policy: { decision: 'deny', policies: [policyId] }, policy_action: 'autonomous' });

    // Another application, same resource: the forbid names only this one.
    const other = await registerService(test, { resource: service.resource });
    expect((await token(other)).status).toBe(200);

    // Removing it restores the default, and both changes are audited and versioned.
    const version = (await test.admin('GET', '/policies')).body.version as number;
    expect((await test.admin('DELETE', `/policies/${policyId}`)).status).toBe(200);
    expect((await test.admin('GET', '/policies')).body.version).toBe(version + 1);
    expect((await token()).status).toBe(200);
    expect(count(test, 'audit_log', "event IN ('admin.policy_added', 'admin.policy_removed') AND detail LIKE ?", `%${policyId}%`)).toBe(2);
    // The removed policy is kept, marked with the version that removed it.
    expect(count(test, 'policies', 'id = ? AND removed_version = ?', policyId, version + 1)).toBe(1);
  });

  it('a policy that does not parse or does not validate is refused with its line, and the old set stays in force', async () => {
    const forbid = await test.admin('POST', '/policies', { text: `forbid (principal == Application::"${service.clientId}", action, resource);` });
    expect(forbid.status).toBe(201);
    const before = await test.admin('GET', '/policies');
    const head = auditHead(test);
    for (const [text, line] of [
      ['permit (principal, action, resource);\n\npermit (principal action, resource);', 3],
      ['permit (principal, action, resource)\nwhen { context.no_such_attribute == 1 };', 2],
      ['permit (principal, action == Action::"fly", resource);', 1],
    ] as const) {
      for (const path of ['/policies', '/policies/validate']) {
        const refused = await test.admin('POST', path, { text });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe('invalid_policy');
        expect(refused.body.error_description).toMatch(new RegExp(`^line ${line}: `));
      }
    }
    expect(auditSince(test, head)).toEqual([]);
    expect((await test.admin('GET', '/policies')).body).toEqual(before.body);
    // The forbid is still what decides.
    expect((await token()).status).toBe(400);
    expect((await test.admin('POST', '/policies/validate', { text: 'permit (principal, action, resource);' })).body).toEqual({ valid: true, statements: 1 });
    await test.admin('DELETE', `/policies/${forbid.body.id}`);
  });

  it('a file of several policies: each statement decides under its own id (pol_….N)', async () => {
    const text = `permit (principal, action == Action::"autonomous", resource);\n\nforbid (principal == Application::"${service.clientId}", action == Action::"autonomous", resource)\nwhen { context.transport == "tcp" };`;
    const added = await test.admin('POST', '/policies', { text });
    expect(added.status).toBe(201);
    const head = auditHead(test);
    await expectRefused(test, () => token(), { status: 400, error: 'access_denied' });
    expect(JSON.parse(auditSince(test, head)[0]!.detail!).policy).toEqual({ decision: 'deny', policies: [`${added.body.id}.2`] });
    await test.admin('DELETE', `/policies/${added.body.id}`);
    expect((await token()).status).toBe(200);
  });

  it('what-if: would this be allowed, and by which policies (the default depth limit included)', async () => {
    const ask = (extra: Record<string, unknown>) => test.admin('POST', '/policies/test', { app: service.clientId, resource: service.resource, ...extra });
    expect((await ask({ action: 'autonomous' })).body).toEqual({ decision: 'allow', allowed: true, policies: ['default.dependencies'] });
    expect((await ask({ action: 'delegation_chain', delegation_depth: 4 })).body).toEqual({ decision: 'deny', allowed: false, policies: ['default.delegation_depth'] });
    expect((await ask({ action: 'impersonation' })).body).toEqual({ decision: 'deny', allowed: false, policies: [] });
    expect((await ask({ action: 'launch' })).status).toBe(400);
  });

  it('lists the defaults shipped with Latchkey beside the admin\'s policies', async () => {
    const listed = (await test.admin('GET', '/policies')).body;
    expect(listed.defaults.map((policy: { id: string }) => policy.id)).toEqual(['default.dependencies', 'default.delegation_depth']);
  });
});

describe('policies and user delegation', () => {
  let test: TestBroker;
  let app: DelegatedApp;
  let browser: Browser;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    await ensureResource(test, NOTES, ['notes:read'], 'Notes');
    app = await registerDelegatedApp(test, { authMethod: 'client_secret_basic', resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  const authorizeParams = (challenge: string) => ({
    response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES, state: 'xyz',
  });

  it('a refresh the policy forbids is access_denied and spends nothing; the authorization endpoint redirects with access_denied', async () => {
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow(authorizeParams(challenge));
    const first = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: app.redirectUri }, { basic: [app.clientId, app.clientSecret!] });
    expect(first.status).toBe(200);

    const added = await test.admin('POST', '/policies', { text: `forbid (principal == Application::"${app.clientId}", action in [Action::"refresh", Action::"user_delegation"], resource)\nwhen { context has user && context.user.email like "*@example.com" };` });
    expect(added.status).toBe(201);
    const head = auditHead(test);
    await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, { basic: [app.clientId, app.clientSecret!] }),
      { status: 400, error: 'access_denied' });
    expect(JSON.parse(auditSince(test, head)[0]!.detail!)).toMatchObject({ policy: { decision: 'deny', policies: [added.body.id] }, policy_action: 'refresh' });

    await expectFrontChannelRefused(test, () => browser.authorize(authorizeParams(pkce().challenge)),
      { redirect: { to: app.redirectUri, error: 'access_denied', state: 'xyz', iss: test.issuer } });

    // Lifted: the refresh token was not spent by the refusal.
    await test.admin('DELETE', `/policies/${added.body.id}`);
    const refreshed = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, { basic: [app.clientId, app.clientSecret!] });
    expect(refreshed.status).toBe(200);
  });
});
