import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, registerService, startBroker, type Service, type TestBroker } from '../support/broker.js';

describe('client_credentials', () => {
  let test: TestBroker;
  let service: Service;

  beforeAll(async () => {
    test = await startBroker();
    service = await registerService(test, { scopes: ['read', 'write', 'admin'], appScopes: ['read', 'write'] });
  });
  afterAll(() => test.close());

  it('issues an audience-bound RFC 9068 token that verifies against the JWKS', async () => {
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, scope: 'read' }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(200);
    expect(result.headers.get('cache-control')).toBe('no-store');
    expect(result.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'read' });
    expect(result.body.refresh_token).toBeUndefined();

    const header = decodeProtectedHeader(result.body.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const jwks = createRemoteJWKSet(new URL(`${test.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(result.body.access_token, jwks, { issuer: test.issuer, audience: service.resource, typ: 'at+jwt' });
    expect(payload).toMatchObject({
      sub: `client:${service.clientId}`,
      client_id: service.clientId,
      scope: 'read',
      grant_type: 'client_credentials',
      identity_type: 'service',
      trust_level: 'shared_secret',
    });
    expect(count(test, 'issued_tokens', 'jti = ?', payload.jti)).toBe(1);
    expect(count(test, 'audit_log', "event = 'token.issued' AND jti = ?", payload.jti)).toBe(1);
  });

  it('without a scope parameter grants everything the app may have for the resource', async () => {
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(200);
    expect(result.body.scope).toBe('read write');
  });

  it('refuses a scope beyond the app\'s allowed scopes with invalid_scope and issues nothing', async () => {
    const before = count(test, 'issued_tokens');
    const result = await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, scope: 'read admin' }, { basic: [service.clientId, service.clientSecret] });
    expect(result.status).toBe(400);
    expect(result.body).toEqual({ error: 'invalid_scope', error_description: expect.any(String) });
    expect(count(test, 'issued_tokens')).toBe(before);
  });

  it('many requests at once: each gets its own token, each token its record and audit row, and the chain holds', async () => {
    const before = count(test, 'issued_tokens');
    const results = await Promise.all(Array.from({ length: 40 }, () =>
      postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, scope: 'read' }, { basic: [service.clientId, service.clientSecret] })));
    expect(results.map((result) => result.status)).toEqual(Array(40).fill(200));
    const jtis = results.map((result) => decodeJwt(result.body.access_token).jti as string);
    expect(new Set(jtis).size).toBe(40);
    expect(count(test, 'issued_tokens')).toBe(before + 40);
    for (const jti of jtis) expect(count(test, 'audit_log', "event = 'token.issued' AND jti = ?", jti)).toBe(1);
    expect(test.broker.audit.verify()).toMatchObject({ ok: true });
  });
});
