// Delegation chaining (issue 4 item 1, RFC 8693): a user authorizes an MCP client for an MCP server; the
// server, and the services behind it, exchange the user's token hop by hop. openid-client's
// genericGrantRequest (unmodified) makes the exchanges; every bad input is refused with expectRefused.
import { decodeJwt, SignJWT, generateKeyPair, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, pkce, registerDelegatedApp, setupOwner, TestClock, type DelegatedApp } from '../support/browser.js';
import { clientAssertion, jwksOf, newClientKey, type ClientKey } from '../support/client-keys.js';
import { auditSince, auditHead, expectRefused } from '../support/refusals.js';
import { delegationPath } from '../../shared/delegation-path.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

/** user's MCP client M → MCP server A (serves R_A) → B (R_B) → C (R_C) → D (R_D) → R_E. */
const R = {
  A: 'https://a.example.test/mcp',
  B: 'https://b.example.test/api',
  C: 'https://c.example.test/api',
  D: 'https://d.example.test/api',
  E: 'https://e.example.test/api',
};

interface Service { clientId: string; clientSecret: string; name: string }

describe('token exchange (RFC 8693): delegation chains', () => {
  let test: TestBroker;
  let clock: TestClock;
  let browser: Browser;
  let userId: string;
  let M: DelegatedApp;
  let A: Service, B: Service, C: Service, D: Service;
  let plain: Service;
  let actorKey: ClientKey;

  async function resource(identifier: string, scopes: string[], servedBy?: string): Promise<void> {
    const created = await test.admin('POST', '/resources', { name: `API ${new URL(identifier).hostname}`, identifier, scopes, ...(servedBy ? { served_by: servedBy } : {}) });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  }

  async function service(name: string, resources: string[], extra: Record<string, unknown> = {}): Promise<Service> {
    const created = await test.admin('POST', '/applications', {
      name, identity_type: 'mcp_server', auth_method: 'client_secret_basic', grant_types: ['token-exchange', 'client_credentials'], resources, ...extra,
    });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    return { clientId: created.body.client_id, clientSecret: created.body.client_secret, name };
  }

  beforeAll(async () => {
    clock = new TestClock();
    test = await startBroker({ clock });
    userId = await setupOwner(test);
    actorKey = await newClientKey('ES256');
    // Built from the end of the chain: a resource names its serving application, which must exist.
    await resource(R.E, ['e:read']);
    D = await service('Service D', [R.E]);
    await resource(R.D, ['d:read'], D.clientId);
    C = await service('Service C', [R.D]);
    await resource(R.C, ['c:read', 'c:write'], C.clientId);
    B = await service('Service B', [R.C]);
    await resource(R.B, ['b:read', 'b:write'], B.clientId);
    A = await service('MCP server A', [R.B], { scopes: ['b:read'], jwks: jwksOf(actorKey) });
    await resource(R.A, ['a:read'], A.clientId);
    plain = await test.admin('POST', '/applications', { name: 'No exchange', auth_method: 'client_secret_basic', resources: [R.B] })
      .then((created) => ({ clientId: created.body.client_id, clientSecret: created.body.client_secret, name: 'No exchange' }));
    M = await registerDelegatedApp(test, { name: 'MCP client', resources: [R.A], grantTypes: ['authorization_code', 'refresh_token'] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  /** The user authorizes M for R_A (openid too); M redeems the code. */
  async function userTokens(): Promise<{ access_token: string; refresh_token: string; id_token: string; code: string }> {
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow({
      response_type: 'code', client_id: M.clientId, redirect_uri: M.redirectUri, code_challenge: challenge, code_challenge_method: 'S256',
      resource: R.A, scope: 'openid a:read offline_access', state: 's',
    });
    const response = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: M.redirectUri, code_verifier: verifier, client_id: M.clientId });
    expect(response.status).toBe(200);
    return { ...response.body, code };
  }

  async function exchange(who: Service, subjectToken: string, target: string, extra: Record<string, string> = {}): Promise<client.TokenEndpointResponse> {
    const config = await client.discovery(new URL(test.issuer), who.clientId, who.clientSecret, client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
    return client.genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, resource: target, ...extra });
  }

  const post = (who: Service | null, params: Record<string, string>) =>
    postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, ...params }, who ? { basic: [who.clientId, who.clientSecret] } : {});

  async function introspect(token: string, who: Service): Promise<Record<string, unknown>> {
    const response = await postForm(`${test.issuer}/oauth2/token/introspect`, { token }, { basic: [who.clientId, who.clientSecret] });
    return response.body;
  }

  /** user → A → B → C: the tokens of the chain. */
  async function chain() {
    const user = await userTokens();
    const toB = await exchange(A, user.access_token, R.B);
    const toC = await exchange(B, toB.access_token, R.C);
    const toD = await exchange(C, toC.access_token, R.D);
    return { user, toB, toC, toD };
  }

  it('a three-hop chain user → A → B → C nests three act levels, most recent outermost, with delegation_depth 3', async () => {
    const { user, toB, toC, toD } = await chain();
    expect(toB).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'bearer', scope: 'b:read' });
    expect(toB.refresh_token).toBeUndefined();
    const first = decodeJwt(toB.access_token);
    expect(first).toMatchObject({ sub: userId, aud: R.B, client_id: A.clientId, delegation_depth: 1, act: { sub: `client:${A.clientId}`, client_id: A.clientId } });
    const last = decodeJwt(toD.access_token);
    expect(last).toMatchObject({ sub: userId, aud: R.D, client_id: C.clientId, scope: 'd:read', delegation_depth: 3, grant_type: TOKEN_EXCHANGE });
    expect(last.act).toEqual({
      sub: `client:${C.clientId}`, client_id: C.clientId,
      act: { sub: `client:${B.clientId}`, client_id: B.clientId, act: { sub: `client:${A.clientId}`, client_id: A.clientId } },
    });
    // exp never later than the token it came from.
    expect(last.exp!).toBeLessThanOrEqual(decodeJwt(toC.access_token).exp!);
    expect(decodeJwt(toC.access_token).exp!).toBeLessThanOrEqual(decodeJwt(user.access_token).exp!);
    expect(decodeProtectedHeader(toD.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    // The serving application of the audience sees the chain at introspection.
    expect(await introspect(toD.access_token, D)).toMatchObject({ active: true, sub: userId, delegation_depth: 3, act: last.act });
  });

  it('the issuance is audited with the chain and without the token', async () => {
    const head = auditHead(test);
    const { toD } = await chain();
    const rows = auditSince(test, head).filter((row) => row.event === 'token.issued' && row.detail?.includes('delegation_depth'));
    expect(rows).toHaveLength(3);
    expect(JSON.parse(rows[2]!.detail!)).toMatchObject({ actors: [C.clientId, B.clientId, A.clientId], delegation_depth: 3, subject: userId, subject_token_type: ACCESS_TOKEN });
    // Where the chain began: `act` names only the actors, the first hop's client is recorded beside them.
    for (const row of rows) expect(JSON.parse(row.detail!)).toMatchObject({ origin_client_id: M.clientId });
    expect(JSON.parse(rows[2]!.detail!)).toMatchObject({ subject_client_id: B.clientId });
    // What the UI's audit page draws: user → M → A → B → C → the resource.
    expect(delegationPath(rows[2]!)).toEqual([
      { kind: 'user', id: userId },
      ...[M, A, B, C].map((app) => ({ kind: 'application', id: app.clientId })),
      { kind: 'resource', id: R.D },
    ]);
    expect(JSON.stringify(auditSince(test, head))).not.toContain(toD.access_token.split('.')[2]);
  });

  it('a fourth hop is refused: the delegation depth would exceed 3 (invalid_request)', async () => {
    const { toD } = await chain();
    const head = auditHead(test);
    await expectRefused(test, () => post(D, { subject_token: toD.access_token, subject_token_type: ACCESS_TOKEN, resource: R.E }), { status: 400, error: 'invalid_request', secrets: [D.clientSecret] });
    const refusal = auditSince(test, head).find((row) => row.event === 'token.refused')!;
    expect(JSON.parse(refusal.detail!)).toMatchObject({ requester: D.clientId, actors: [C.clientId, B.clientId, A.clientId], delegation_depth: 4 });
  });

  it('revoking the first token takes the whole chain down (introspection inactive for each)', async () => {
    const { user, toB, toC, toD } = await chain();
    expect(await introspect(toC.access_token, C)).toMatchObject({ active: true });
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: user.access_token, client_id: M.clientId });
    expect(revoked.status).toBe(200);
    for (const [token, who] of [[toB, B], [toC, C], [toD, D]] as const) expect(await introspect(token.access_token, who)).toEqual({ active: false });
    expect(await introspect(toB.access_token, A)).toEqual({ active: false });
  });

  it('revoking the refresh family, or withdrawing the consent, takes the chain down too', async () => {
    const first = await chain();
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: first.user.refresh_token, client_id: M.clientId });
    expect(revoked.status).toBe(200);
    expect(await introspect(first.toD.access_token, D)).toEqual({ active: false });

    const second = await chain();
    const consents = await test.admin('GET', `/consents?client_id=${M.clientId}`);
    for (const consent of consents.body) await test.admin('POST', `/consents/${consent.id}/revoke`);
    expect(await introspect(second.toC.access_token, C)).toEqual({ active: false });
    expect(await introspect(second.toD.access_token, D)).toEqual({ active: false });
  });

  it('an autonomous chain: a client_credentials token exchanged by its resource\'s serving application needs no consent', async () => {
    const service = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: R.B }, { basic: [plain.clientId, plain.clientSecret] });
    expect(service.status).toBe(200);
    const toC = await exchange(B, service.body.access_token, R.C, { scope: 'c:read' });
    expect(decodeJwt(toC.access_token)).toMatchObject({ sub: `client:${plain.clientId}`, client_id: B.clientId, scope: 'c:read', delegation_depth: 1, act: { client_id: B.clientId } });
    const toD = await exchange(C, toC.access_token, R.D);
    expect(decodeJwt(toD.access_token)).toMatchObject({ sub: `client:${plain.clientId}`, delegation_depth: 2 });
  });

  it('an actor token may prove the requester: its own access token, or an assertion signed by its registered key', async () => {
    const user = await userTokens();
    const own = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: R.B }, { basic: [A.clientId, A.clientSecret] });
    const withToken = await exchange(A, user.access_token, R.B, { actor_token: own.body.access_token, actor_token_type: ACCESS_TOKEN });
    expect(decodeJwt(withToken.access_token)).toMatchObject({ act: { client_id: A.clientId } });
    const assertion = await clientAssertion(actorKey, A.clientId, test.issuer);
    const withAssertion = await exchange(A, user.access_token, R.B, { actor_token: assertion, actor_token_type: JWT });
    expect(decodeJwt(withAssertion.access_token)).toMatchObject({ delegation_depth: 1 });
    // Single use (RFC 7523 §3 item 7).
    await expectRefused(test, () => post(A, { subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, resource: R.B, actor_token: assertion, actor_token_type: JWT }),
      { status: 400, error: 'invalid_request' });
  });

  describe('bad input is refused, issues nothing, changes nothing', () => {
    let user: Awaited<ReturnType<typeof userTokens>>;
    beforeAll(async () => {
      user = await userTokens();
    });
    const good = () => ({ subject_token: user.access_token, subject_token_type: ACCESS_TOKEN, resource: R.B });

    it('a public client (invalid_client)', async () => {
      await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, client_id: M.clientId, ...good() }), { status: 401, error: 'invalid_client' });
    });

    it('a confidential client not registered for token exchange (unauthorized_client)', async () => {
      await expectRefused(test, () => post(plain, good()), { status: 400, error: 'unauthorized_client', secrets: [plain.clientSecret] });
    });

    it('a missing subject_token_type', async () => {
      await expectRefused(test, () => post(A, { ...good(), subject_token_type: '' }), { status: 400, error: 'invalid_request' });
    });

    it.each([
      ['the refresh token type', 'urn:ietf:params:oauth:token-type:refresh_token'],
      ['the id_token type', 'urn:ietf:params:oauth:token-type:id_token'],
      ['the generic jwt type (not taken as an alias: it does not say "access token")', JWT],
      ['an unknown type', 'urn:example:token-type:magic'],
      ['substitute-user over TCP (impersonation is only on the local socket)', 'urn:latchkey:params:oauth:token-type:substitute-user'],
    ])('a wrong subject_token_type: %s', async (_name, type) => {
      await expectRefused(test, () => post(A, { ...good(), subject_token_type: type }), { status: 400, error: 'invalid_request' });
    });

    it('actor_token without actor_token_type, and actor_token_type without actor_token', async () => {
      await expectRefused(test, () => post(A, { ...good(), actor_token: user.access_token }), { status: 400, error: 'invalid_request' });
      await expectRefused(test, () => post(A, { ...good(), actor_token_type: ACCESS_TOKEN }), { status: 400, error: 'invalid_request' });
    });

    it('a subject token that has expired', async () => {
      const fresh = await userTokens();
      clock.advance(601_000);
      try {
        await expectRefused(test, () => post(A, { ...good(), subject_token: fresh.access_token }), { status: 400, error: 'invalid_request' });
      } finally {
        clock.advance(-601_000);
      }
    });

    it('a subject token that was revoked', async () => {
      const fresh = await userTokens();
      await postForm(`${test.issuer}/oauth2/token/revoke`, { token: fresh.access_token, client_id: M.clientId });
      await expectRefused(test, () => post(A, { ...good(), subject_token: fresh.access_token }), { status: 400, error: 'invalid_request' });
    });

    it('a tampered subject token', async () => {
      const [header, payload, signature] = user.access_token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'a:read a:admin' })).toString('base64url')}.${signature}`;
      await expectRefused(test, () => post(A, { ...good(), subject_token: forged }), { status: 400, error: 'invalid_request' });
    });

    it('a subject token signed by another key (same kid)', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const header = decodeProtectedHeader(user.access_token);
      const forged = await new SignJWT(decodeJwt(user.access_token)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid! }).sign(privateKey);
      await expectRefused(test, () => post(A, { ...good(), subject_token: forged }), { status: 400, error: 'invalid_request' });
    });

    it('a subject token with alg none', async () => {
      const header = decodeProtectedHeader(user.access_token);
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const forged = `${b64({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${b64(decodeJwt(user.access_token))}.`;
      await expectRefused(test, () => post(A, { ...good(), subject_token: forged }), { status: 400, error: 'invalid_request' });
    });

    it('a subject token not addressed to the requester (it does not serve the audience)', async () => {
      await expectRefused(test, () => post(B, { ...good(), resource: R.C }), { status: 400, error: 'invalid_request', secrets: [B.clientSecret] });
    });

    it('type confusion: an ID token, a refresh token, a code, an API key, a client assertion are not access tokens', async () => {
      const apiKey = await test.admin('POST', `/applications/${A.clientId}/api-keys`);
      const assertion = await clientAssertion(actorKey, A.clientId, test.issuer);
      for (const subjectToken of [user.id_token, user.refresh_token, user.code, apiKey.body.api_key, assertion]) {
        expect(subjectToken).toBeTruthy();
        await expectRefused(test, () => post(A, { ...good(), subject_token: subjectToken }), { status: 400, error: 'invalid_request', secrets: [subjectToken] });
      }
    });

    it('an actor token of another client', async () => {
      const other = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: R.C }, { basic: [B.clientId, B.clientSecret] });
      await expectRefused(test, () => post(A, { ...good(), actor_token: other.body.access_token, actor_token_type: ACCESS_TOKEN }), { status: 400, error: 'invalid_request' });
      const foreign = await clientAssertion(await newClientKey('ES256'), A.clientId, test.issuer);
      await expectRefused(test, () => post(A, { ...good(), actor_token: foreign, actor_token_type: JWT }), { status: 400, error: 'invalid_request' });
    });

    it('a target that is not a dependency of the requester (invalid_target)', async () => {
      await expectRefused(test, () => post(A, { ...good(), resource: R.C }), { status: 400, error: 'invalid_target' });
      await expectRefused(test, () => post(A, { ...good(), resource: 'https://unknown.example.test/' }), { status: 400, error: 'invalid_target' });
    });

    it('two targets, or none (invalid_target)', async () => {
      await expectRefused(test, () => post(A, { ...good(), audience: R.A }), { status: 400, error: 'invalid_target' });
      await expectRefused(test, () => post(A, { ...good(), resource: '' }), { status: 400, error: 'invalid_target' });
    });

    it('scope escalation: more than the requester may have at the target (invalid_scope)', async () => {
      await expectRefused(test, () => post(A, { ...good(), scope: 'b:read b:write' }), { status: 400, error: 'invalid_scope' });
    });

    it('a requested_token_type other than an access token', async () => {
      await expectRefused(test, () => post(A, { ...good(), requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), { status: 400, error: 'invalid_request' });
    });
  });
});

describe('token exchange: the consent covers the chain', () => {
  let test: TestBroker;
  let browser: Browser;

  beforeAll(async () => {
    test = await startBroker();
    await setupOwner(test);
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  it('the consent page lists what the serving applications may reach in turn; an actor may not appear twice in a chain', async () => {
    // A cycle: Alpha serves One and reaches Two; Bravo serves Two and reaches Three, and One again.
    await test.admin('POST', '/resources', { name: 'Third', identifier: 'https://three.example.test/', scopes: ['t:read'] });
    const b = await test.admin('POST', '/applications', { name: 'Bravo', grant_types: ['token-exchange'], resources: ['https://three.example.test/'] });
    await test.admin('POST', '/resources', { name: 'Second', identifier: 'https://two.example.test/', scopes: ['s:read'], served_by: b.body.client_id });
    const a = await test.admin('POST', '/applications', { name: 'Alpha', grant_types: ['token-exchange'], resources: ['https://two.example.test/'] });
    await test.admin('POST', '/resources', { name: 'First', identifier: 'https://one.example.test/', scopes: ['f:read'], served_by: a.body.client_id });
    // Dependencies are only added at creation through the admin API so far (`app update --resource` is issue 4 item 2).
    test.broker.db.transaction(() => test.broker.applications.addDependency(b.body.client_id, 'https://one.example.test/'))();
    const Alpha = { clientId: a.body.client_id, clientSecret: a.body.client_secret };
    const Bravo = { clientId: b.body.client_id, clientSecret: b.body.client_secret };
    const m = await registerDelegatedApp(test, { name: 'Client', resources: ['https://one.example.test/'] });
    const { verifier, challenge } = pkce();
    const page = await browser.authorize({ response_type: 'code', client_id: m.clientId, redirect_uri: m.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: 'https://one.example.test/' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('What they may reach for you in turn');
    expect(page.html).toMatch(/<strong>Alpha<\/strong> may reach <strong>Second<\/strong>/);
    expect(page.html).toMatch(/<strong>Bravo<\/strong> may reach <strong>Third<\/strong>/);
    expect(page.html).toMatch(/<strong>Bravo<\/strong> may reach <strong>First<\/strong>/);
    const answer = await browser.decide(consentForm(page.html), 'allow');
    const code = new URL(answer.location!).searchParams.get('code')!;
    const user = (await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: m.redirectUri, code_verifier: verifier, client_id: m.clientId })).body.access_token as string;

    const send = (who: { clientId: string; clientSecret: string }, token: string, resource: string) =>
      postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: ACCESS_TOKEN, resource }, { basic: [who.clientId, who.clientSecret] });
    const toTwo = await send(Alpha, user, 'https://two.example.test/');
    expect(toTwo.status).toBe(200);
    const backToOne = await send(Bravo, toTwo.body.access_token, 'https://one.example.test/');
    expect(backToOne.status).toBe(200);
    expect(decodeJwt(backToOne.body.access_token)).toMatchObject({ delegation_depth: 2 });
    await expectRefused(test, () => send(Alpha, backToOne.body.access_token, 'https://two.example.test/'), { status: 400, error: 'invalid_request' });
  });

  it('a hop outside the consented tree answers interaction_required, saying what to do; authorizing again covers it', async () => {
    await test.admin('POST', '/resources', { name: 'Ledger', identifier: 'https://ledger.example.test/', scopes: ['ledger:read'] });
    const x = await test.admin('POST', '/applications', { name: 'Xray', grant_types: ['token-exchange'], resources: ['https://ledger.example.test/'] });
    const X = { clientId: x.body.client_id, clientSecret: x.body.client_secret };
    await test.admin('POST', '/resources', { name: 'Xray MCP', identifier: 'https://x.example.test/mcp', scopes: ['x:use'], served_by: X.clientId });
    const m = await registerDelegatedApp(test, { name: 'Xray client', resources: ['https://x.example.test/mcp'] });
    // Xray is disabled when the user consents, so the page lists no hop for it and the consent covers none.
    await test.admin('POST', `/applications/${X.clientId}/disable`);
    const userToken = async () => {
      const { verifier, challenge } = pkce();
      const { code } = await browser.authorizeAndAllow({ response_type: 'code', client_id: m.clientId, redirect_uri: m.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', resource: 'https://x.example.test/mcp' }, { remember: true });
      return (await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: m.redirectUri, code_verifier: verifier, client_id: m.clientId })).body.access_token as string;
    };
    const before = await userToken();
    await test.admin('POST', `/applications/${X.clientId}/enable`);
    const send = (token: string) => postForm(`${test.issuer}/oauth2/token`, { grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: ACCESS_TOKEN, resource: 'https://ledger.example.test/' }, { basic: [X.clientId, X.clientSecret] });
    const refused = await expectRefused(test, () => send(before), { status: 400, error: 'interaction_required' });
    expect(refused.body.error_description).toMatch(/must authorize Xray client again/);

    // The remembered consent no longer covers the tree: the page is shown again, and approving covers the hop.
    const after = await userToken();
    const exchanged = await send(after);
    expect(exchanged.status).toBe(200);
    expect(decodeJwt(exchanged.body.access_token)).toMatchObject({ aud: 'https://ledger.example.test/', scope: 'ledger:read', delegation_depth: 1 });
  });
});
