// The three autonomous grants (DESIGN.md §2): client_credentials (RFC 6749 §4.4), the API key exchange
// (`urn:latchkey:params:oauth:grant-type:api-key`, alias `api_key`) and the JWT bearer grant
// (RFC 7523 §2.1). No user: `sub` is `client:<client_id>`, and `trust_level` says how the client proved itself.
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, registerService, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { assertionClaims, clientAssertion, hmacWithPublicKey, jwksOf, newClientKey, unsignedAssertion, type ClientKey } from '../support/client-keys.js';
import { auditHead, auditSince, expectRefused } from '../support/refusals.js';

const API_KEY_GRANT = 'urn:latchkey:params:oauth:grant-type:api-key';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('autonomous grants', () => {
  let test: TestBroker;
  let tokenUrl: string;

  beforeAll(async () => {
    test = await startBroker();
    tokenUrl = `${test.issuer}/oauth2/token`;
  });
  afterAll(() => test.close());

  /** Verifies a token against the broker's JWKS, as a resource server would. */
  const verify = async (token: string, audience: string) =>
    (await jwtVerify(token, createRemoteJWKSet(new URL(`${test.issuer}/.well-known/jwks.json`)), { issuer: test.issuer, audience, typ: 'at+jwt' })).payload;

  describe('client_credentials', () => {
    let service: Service;

    beforeAll(async () => {
      service = await registerService(test, { scopes: ['read', 'write'] });
    });

    it('issues a token for the named resource, recorded with its audit row', async () => {
      const head = auditHead(test);
      const result = await postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, scope: 'write' }, { basic: [service.clientId, service.clientSecret] });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'write' });
      const payload = await verify(result.body.access_token, service.resource);
      expect(payload).toMatchObject({ sub: `client:${service.clientId}`, client_id: service.clientId, aud: service.resource, scope: 'write', grant_type: 'client_credentials', trust_level: 'shared_secret' });
      expect(count(test, 'issued_tokens', 'jti = ? AND client_id = ? AND user_id IS NULL', payload.jti, service.clientId)).toBe(1);
      expect(auditSince(test, head)).toMatchObject([{ event: 'token.issued', decision: 'allow', client_id: service.clientId, jti: payload.jti }]);
    });

    it('defaults to the only dependency when no resource is named (RFC 8707 §2)', async () => {
      const result = await postForm(tokenUrl, { grant_type: 'client_credentials' }, { basic: [service.clientId, service.clientSecret] });
      expect(result.status).toBe(200);
      expect(decodeJwt(result.body.access_token).aud).toBe(service.resource);
    });

    it('refuses to guess between several dependencies: invalid_target', async () => {
      await test.admin('POST', '/resources', { name: 'First', identifier: 'https://first.example.test/', scopes: ['read'] });
      await test.admin('POST', '/resources', { name: 'Second', identifier: 'https://second.example.test/', scopes: ['read'] });
      const created = await test.admin('POST', '/applications', { name: 'Two deps', identity_type: 'service', resources: ['https://first.example.test/', 'https://second.example.test/'] });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials' }, { basic: [created.body.client_id, created.body.client_secret] }),
        { status: 400, error: 'invalid_target', secrets: [created.body.client_secret] });
      const named = await postForm(tokenUrl, { grant_type: 'client_credentials', resource: 'https://second.example.test/' }, { basic: [created.body.client_id, created.body.client_secret] });
      expect(named.status).toBe(200);
    });
  });

  describe('API key', () => {
    let service: Service;

    beforeAll(async () => {
      service = await registerService(test, { scopes: ['read', 'write', 'admin'], appScopes: ['read', 'write'] });
    });

    const newKey = async (clientId = service.clientId): Promise<{ id: string; apiKey: string }> => {
      const created = await test.admin('POST', `/applications/${clientId}/api-keys`);
      expect(created.status).toBe(201);
      expect(created.body.api_key).toMatch(/^lk_sk_/);
      return { id: created.body.id, apiKey: created.body.api_key };
    };

    for (const grantType of [API_KEY_GRANT, 'api_key']) {
      it(`exchanges a key for a token with grant_type ${grantType}; the token says api_key`, async () => {
        const { apiKey } = await newKey();
        const result = await postForm(tokenUrl, { grant_type: grantType, api_key: apiKey, resource: service.resource, scope: 'read' });
        expect(result.status).toBe(200);
        expect(result.text).not.toContain(apiKey);
        const payload = await verify(result.body.access_token, service.resource);
        expect(payload).toMatchObject({ sub: `client:${service.clientId}`, client_id: service.clientId, scope: 'read', grant_type: API_KEY_GRANT, trust_level: 'api_key' });
        expect(JSON.stringify(test.broker.db.prepare('SELECT * FROM audit_log').all())).not.toContain(apiKey);
      });
    }

    it('answers a revoked, an unknown and a malformed key identically: 400 invalid_grant', async () => {
      const { id, apiKey } = await newKey();
      expect((await postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: service.resource })).status).toBe(200);
      expect((await test.admin('POST', `/api-keys/${id}/revoke`)).status).toBe(200);

      const unknown = `lk_sk_${'A'.repeat(43)}`;
      const malformed = 'lk_sk_short';
      const answers = [];
      for (const key of [apiKey, unknown, malformed, apiKey.slice(6), `${apiKey}x`]) {
        const result = await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: key, resource: service.resource }), { status: 400, error: 'invalid_grant', secrets: [key] });
        answers.push({ status: result.status, body: result.text, cache: result.headers.get('cache-control'), challenge: result.headers.get('www-authenticate') });
      }
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });

    it('answers a key of a disabled application like any bad key', async () => {
      const other = await registerService(test);
      const { apiKey } = await newKey(other.clientId);
      const bad = await postForm(tokenUrl, { grant_type: 'api_key', api_key: `lk_sk_${'B'.repeat(43)}`, resource: other.resource });
      await test.admin('POST', `/applications/${other.clientId}/disable`);
      const disabled = await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: other.resource }), { status: 400, error: 'invalid_grant', secrets: [apiKey] });
      expect(disabled.text).toBe(bad.text);
    });

    it('requires the api_key parameter: invalid_request', async () => {
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', resource: service.resource }), { status: 400, error: 'invalid_request' });
    });

    it('refuses a key presented together with another client\'s credentials', async () => {
      const { apiKey } = await newKey();
      const other = await registerService(test, { resource: service.resource });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: service.resource }, { basic: [other.clientId, other.clientSecret] }),
        { status: 400, error: 'invalid_grant', secrets: [apiKey, other.clientSecret] });
      // With its own client's credentials it is fine.
      const same = await postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
      expect(same.status).toBe(200);
    });

    it('holds a key to its application\'s scopes and resources', async () => {
      const { apiKey } = await newKey();
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: service.resource, scope: 'admin' }), { status: 400, error: 'invalid_scope', secrets: [apiKey] });
      const elsewhere = await registerService(test);
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: apiKey, resource: elsewhere.resource }), { status: 400, error: 'invalid_target', secrets: [apiKey] });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'api_key', api_key: [apiKey, apiKey], resource: service.resource }), { status: 400, error: 'invalid_request', secrets: [apiKey] });
    });
  });

  describe('JWT bearer', () => {
    let key: ClientKey;
    let service: Service;

    beforeAll(async () => {
      key = await newClientKey('ES256');
      service = await registerService(test, { scopes: ['read', 'write'], jwks: jwksOf(key), grantTypes: [JWT_BEARER_GRANT] });
    });

    const bearer = (assertion: string, extra: Record<string, string> = {}) =>
      postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, assertion, resource: service.resource, ...extra });
    const expectBadAssertion = (assertion: string) =>
      expectRefused(test, () => bearer(assertion), { status: 400, error: 'invalid_grant', secrets: [assertion] });

    it('exchanges an assertion signed by the registered key for a token that says key_bound', async () => {
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      const result = await bearer(assertion, { scope: 'read' });
      expect(result.status).toBe(200);
      expect(result.text).not.toContain(assertion);
      const payload = await verify(result.body.access_token, service.resource);
      expect(payload).toMatchObject({ sub: `client:${service.clientId}`, client_id: service.clientId, scope: 'read', grant_type: JWT_BEARER_GRANT, trust_level: 'key_bound' });
    });

    it('works with an RS256 key too', async () => {
      const rsKey = await newClientKey('RS256');
      const rsService = await registerService(test, { jwks: jwksOf(rsKey), grantTypes: [JWT_BEARER_GRANT], authMethod: 'private_key_jwt' });
      const result = await postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, assertion: await clientAssertion(rsKey, rsService.clientId, `${test.issuer}/oauth2/token`), resource: rsService.resource });
      expect(result.status).toBe(200);
      expect(decodeJwt(result.body.access_token).trust_level).toBe('key_bound');
    });

    it('refuses a replayed assertion with invalid_grant', async () => {
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      expect((await bearer(assertion)).status).toBe(200);
      await expectBadAssertion(assertion);
    });

    it('refuses unsigned, HMAC-forged, expired, long-lived, wrongly addressed and foreign-subject assertions with invalid_grant', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectBadAssertion(unsignedAssertion(assertionClaims(service.clientId, test.issuer), key.kid));
      await expectBadAssertion(await hmacWithPublicKey(key, assertionClaims(service.clientId, test.issuer), 'pem'));
      await expectBadAssertion(await clientAssertion(key, service.clientId, test.issuer, { iat: now - 900, exp: now - 300 }));
      await expectBadAssertion(await clientAssertion(key, service.clientId, test.issuer, { exp: now + 3600 }));
      await expectBadAssertion(await clientAssertion(key, service.clientId, [test.issuer]));
      await expectBadAssertion(await clientAssertion(key, service.clientId, 'https://other-as.example/'));
      await expectBadAssertion(await clientAssertion(key, service.clientId, test.issuer, { jti: undefined }));
      await expectBadAssertion(await clientAssertion(key, service.clientId, test.issuer, { sub: 'usr_owner' }));
      const stranger = await newClientKey('ES256', key.kid);
      await expectBadAssertion(await clientAssertion(stranger, service.clientId, test.issuer));
    });

    it('requires the assertion parameter: invalid_request', async () => {
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, resource: service.resource }), { status: 400, error: 'invalid_request' });
    });

    it('refuses an application not registered for the grant with unauthorized_client', async () => {
      const otherKey = await newClientKey();
      const other = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(otherKey) });
      const assertion = await clientAssertion(otherKey, other.clientId, test.issuer);
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, assertion, resource: other.resource }), { status: 400, error: 'unauthorized_client', secrets: [assertion] });
    });

    it('refuses an assertion presented with another client\'s credentials', async () => {
      const other = await registerService(test, { resource: service.resource });
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, assertion, resource: service.resource }, { basic: [other.clientId, other.clientSecret] }),
        { status: 400, error: 'invalid_grant', secrets: [assertion, other.clientSecret] });
    });

    it('refuses an assertion of a disabled application', async () => {
      const otherKey = await newClientKey();
      const other = await registerService(test, { jwks: jwksOf(otherKey), grantTypes: [JWT_BEARER_GRANT] });
      await test.admin('POST', `/applications/${other.clientId}/disable`);
      const assertion = await clientAssertion(otherKey, other.clientId, test.issuer);
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: JWT_BEARER_GRANT, assertion, resource: other.resource }), { status: 400, error: 'invalid_grant', secrets: [assertion] });
    });

    it('an assertion refused for its scope is not used up by the refusal', async () => {
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      await expectRefused(test, () => bearer(assertion, { scope: 'admin' }), { status: 400, error: 'invalid_scope', secrets: [assertion] });
      expect((await bearer(assertion, { scope: 'read' })).status).toBe(200);
    });
  });
});
