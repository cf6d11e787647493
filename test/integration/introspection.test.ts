// Token introspection (RFC 7662): only an authenticated confidential client may ask, and only about its
// own tokens or tokens for a resource it serves; anything else is {"active": false} and nothing more.
import { createHmac } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../main/core/clock.js';
import { postForm, registerService, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { clientAssertion, jwksOf, newClientKey } from '../support/client-keys.js';
import { expectRefused } from '../support/refusals.js';

/** Real time, until a test freezes it to move it forward by hand instead of sleeping. */
class TestClock implements Clock {
  frozenMs: number | null = null;
  now(): number { return this.frozenMs ?? Date.now(); }
}

describe('introspection', () => {
  const clock = new TestClock();
  let test: TestBroker;
  let introspectUrl: string;
  /** The resource server: serves `resource`, may introspect tokens for it. */
  let server: { clientId: string; clientSecret: string };
  let resource: string;
  /** A client of that resource. */
  let client: Service;
  /** Someone else entirely. */
  let stranger: Service;

  beforeAll(async () => {
    test = await startBroker({ clock });
    introspectUrl = `${test.issuer}/oauth2/token/introspect`;
    const created = await test.admin('POST', '/applications', { name: 'Notes API', identity_type: 'mcp_server' });
    server = { clientId: created.body.client_id, clientSecret: created.body.client_secret };
    resource = 'https://notes.example.test/';
    const resourceCreated = await test.admin('POST', '/resources', { name: 'Notes', identifier: resource, scopes: ['notes:read', 'notes:write'], served_by: server.clientId });
    expect(resourceCreated.status).toBe(201);
    client = await registerService(test, { resource });
    stranger = await registerService(test);
  });
  afterAll(() => test.close());

  const issue = async (service: Service = client, extra: Record<string, string> = {}): Promise<string> => {
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, ...extra }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(200);
    return result.body.access_token;
  };
  const introspect = (token: string, as: { clientId: string; clientSecret: string } = client, extra: Record<string, string | string[]> = {}) =>
    postForm(introspectUrl, { token, ...extra }, { basic: [as.clientId, as.clientSecret] });

  it('describes an active token to its client: exp, iat, sub, aud, client_id, scope, token_type', async () => {
    const token = await issue(client, { scope: 'notes:read' });
    const claims = decodeJwt(token);
    const result = await introspect(token);
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(result.body).toEqual({
      active: true,
      token_type: 'Bearer',
      client_id: client.clientId,
      sub: `client:${client.clientId}`,
      aud: resource,
      scope: 'notes:read',
      exp: claims.exp,
      iat: claims.iat,
      iss: test.issuer,
      jti: claims.jti,
    });
  });

  it('lets the resource\'s serving application introspect tokens addressed to it', async () => {
    const token = await issue();
    const result = await introspect(token, server);
    expect(result.body).toMatchObject({ active: true, client_id: client.clientId, aud: resource });
  });

  it('answers a token of another client with {"active": false} and nothing else', async () => {
    const token = await issue();
    const result = await introspect(token, stranger);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ active: false });
    // Nor does the client of one resource learn about tokens of the server's other callers through it.
    const strangerToken = await issue(stranger);
    expect((await introspect(strangerToken, server)).body).toEqual({ active: false });
    expect((await introspect(strangerToken, client)).body).toEqual({ active: false });
  });

  it('lets a private_key_jwt client introspect its own tokens', async () => {
    const key = await newClientKey();
    const keyed = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(key), resource });
    const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    const tokenResult = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource, client_assertion_type: assertionType, client_assertion: await clientAssertion(key, keyed.clientId, test.issuer) });
    expect(tokenResult.status).toBe(200);
    const result = await postForm(introspectUrl, { token: tokenResult.body.access_token, client_assertion_type: assertionType, client_assertion: await clientAssertion(key, keyed.clientId, test.issuer) });
    expect(result.body).toMatchObject({ active: true, client_id: keyed.clientId });
  });

  it('refuses a request without client authentication with 401 invalid_client', async () => {
    const token = await issue();
    await expectRefused(test, () => postForm(introspectUrl, { token }), { status: 401, error: 'invalid_client', secrets: [token] });
  });

  it('does not take a public client\'s client_id alone as authentication', async () => {
    const token = await issue();
    const pub = await test.admin('POST', '/applications', { name: 'Public CLI', auth_method: 'none', resources: [resource] });
    expect(pub.status).toBe(201);
    await expectRefused(test, () => postForm(introspectUrl, { token, client_id: pub.body.client_id }), { status: 401, error: 'invalid_client', secrets: [token] });
    // Nor a confidential client's client_id without its secret.
    await expectRefused(test, () => postForm(introspectUrl, { token, client_id: client.clientId }), { status: 401, error: 'invalid_client', secrets: [token] });
  });

  it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
    const token = await issue();
    const result = await expectRefused(test, () => introspect(token, { clientId: client.clientId, clientSecret: 'wrong-secret-value' }), { status: 401, error: 'invalid_client', secrets: [token, 'wrong-secret-value'] });
    expect(result.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('refuses a missing or duplicated token parameter with invalid_request', async () => {
    const token = await issue();
    await expectRefused(test, () => postForm(introspectUrl, {}, { basic: [client.clientId, client.clientSecret] }), { status: 400, error: 'invalid_request', secrets: [client.clientSecret] });
    await expectRefused(test, () => introspect(token, client, { token: [token, token] }), { status: 400, error: 'invalid_request', secrets: [token, client.clientSecret] });
  });

  it('answers an expired token as inactive', async () => {
    const shortLived = 'https://short.example.test/';
    await test.admin('POST', '/resources', { name: 'Short', identifier: shortLived, scopes: ['read'], token_lifetime: 30 });
    const service = await registerService(test, { resource: shortLived });
    clock.frozenMs = Date.now();
    try {
      const token = await issue(service);
      const { iat, exp } = decodeJwt(token);
      expect(exp! - iat!).toBe(30);
      expect((await introspect(token, service)).body.active).toBe(true);
      clock.frozenMs = (exp! - 1) * 1000;
      expect((await introspect(token, service)).body.active).toBe(true);
      clock.frozenMs = exp! * 1000;
      expect((await introspect(token, service)).body).toEqual({ active: false });
    } finally {
      clock.frozenMs = null;
    }
  });

  it('answers a revoked token as inactive', async () => {
    const token = await issue();
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token }, { basic: [client.clientId, client.clientSecret] });
    expect(revoked.status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
    expect((await introspect(token, server)).body).toEqual({ active: false });
  });

  it('answers a token with a tampered signature or payload as inactive', async () => {
    const token = await issue(client, { scope: 'notes:read' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 20)}${signature[20] === 'A' ? 'B' : 'A'}${signature.slice(21)}`;
    expect((await introspect(`${header}.${payload}.${flipped}`)).body).toEqual({ active: false });
    const widened = Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'notes:read notes:write' })).toString('base64url');
    expect((await introspect(`${header}.${widened}.${signature}`)).body).toEqual({ active: false });
    expect((await introspect(`${header}.${payload}.`)).body).toEqual({ active: false });
    expect((await introspect('not-a-token')).body).toEqual({ active: false });
  });

  it('answers forgeries as inactive: alg none, HS256 with a guessable key, a foreign key under our kid', async () => {
    const token = await issue();
    const claims = decodeJwt(token);
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string };
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${segment({ alg: 'none', typ: 'at+jwt', kid })}.${segment(claims)}.`;
    expect((await introspect(none)).body).toEqual({ active: false });

    const published = await (await fetch(`${test.issuer}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> };
    const jwk = published.keys.find((key) => key.kid === kid)!;
    const input = `${segment({ alg: 'HS256', typ: 'at+jwt', kid })}.${segment(claims)}`;
    const hs = `${input}.${createHmac('sha256', JSON.stringify(jwk)).update(input).digest('base64url')}`;
    expect((await introspect(hs)).body).toEqual({ active: false });

    const foreign = await newClientKey('ES256');
    const signedElsewhere = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(foreign.privateKey);
    expect((await introspect(signedElsewhere)).body).toEqual({ active: false });
  });

  it('answers tokens of a disabled application as inactive, and refuses the application itself', async () => {
    const service = await registerService(test, { resource });
    const token = await issue(service);
    expect((await introspect(token, server)).body.active).toBe(true);
    expect((await test.admin('POST', `/applications/${service.clientId}/disable`)).status).toBe(200);
    expect((await introspect(token, server)).body).toEqual({ active: false });
    await expectRefused(test, () => introspect(token, service), { status: 401, error: 'invalid_client', secrets: [token, service.clientSecret] });
    const refused = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource }, { basic: [service.clientId, service.clientSecret] });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
  });
});
