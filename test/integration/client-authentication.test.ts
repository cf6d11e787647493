// Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2/§3, OAuth 2.1 §2.4):
// client_secret_basic, client_secret_post, none, private_key_jwt, and every way to get them wrong.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, count, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { assertionClaims, clientAssertion, hmacWithPublicKey, jwksOf, newClientKey, signAssertion, unsignedAssertion, type ClientKey } from '../support/client-keys.js';
import { expectRefused } from '../support/refusals.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Every byte percent-encoded: what a client that form-encodes aggressively may send (RFC 6749 §2.3.1). */
const percentEncodeAll = (value: string): string => [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const rawBasic = (credentials: string): string => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

describe('client authentication with a client secret', () => {
  let test: TestBroker;
  let basicClient: Service;
  let postClient: Service;
  let tokenUrl: string;

  beforeAll(async () => {
    test = await startBroker();
    tokenUrl = `${test.issuer}/oauth2/token`;
    basicClient = await registerService(test);
    postClient = await registerService(test, { authMethod: 'client_secret_post' });
  });
  afterAll(() => test.close());

  const request = (service: Service, extra: Record<string, string | string[]> = {}) => ({ grant_type: 'client_credentials', resource: service.resource, ...extra });

  it('client_secret_basic authenticates and the token says shared_secret', async () => {
    const result = await postForm(tokenUrl, request(basicClient), { basic: [basicClient.clientId, basicClient.clientSecret] });
    expect(result.status).toBe(200);
    expect(decodeJwt(result.body.access_token)).toMatchObject({ sub: `client:${basicClient.clientId}`, client_id: basicClient.clientId, trust_level: 'shared_secret' });
  });

  it('client_secret_post authenticates and the token says shared_secret', async () => {
    const result = await postForm(tokenUrl, request(postClient, { client_id: postClient.clientId, client_secret: postClient.clientSecret }));
    expect(result.status).toBe(200);
    expect(decodeJwt(result.body.access_token)).toMatchObject({ client_id: postClient.clientId, trust_level: 'shared_secret' });
  });

  it('a confidential client may use either secret method, whichever it registered', async () => {
    const viaPost = await postForm(tokenUrl, request(basicClient, { client_id: basicClient.clientId, client_secret: basicClient.clientSecret }));
    expect(viaPost.status).toBe(200);
    const viaBasic = await postForm(tokenUrl, request(postClient), { basic: [postClient.clientId, postClient.clientSecret] });
    expect(viaBasic.status).toBe(200);
  });

  it('Basic decodes the form-urlencoding of both halves (RFC 6749 §2.3.1)', async () => {
    const encoded = rawBasic(`${percentEncodeAll(basicClient.clientId)}:${percentEncodeAll(basicClient.clientSecret)}`);
    expect(encoded).not.toBe(basicAuth(basicClient.clientId, basicClient.clientSecret));
    const result = await postForm(tokenUrl, request(basicClient), { headers: { authorization: encoded } });
    expect(result.status).toBe(200);
    expect(decodeJwt(result.body.access_token).client_id).toBe(basicClient.clientId);
    // Only the client_id half encoded, the secret as is.
    const halfEncoded = await postForm(tokenUrl, request(basicClient), { headers: { authorization: rawBasic(`${percentEncodeAll(basicClient.clientId)}:${basicClient.clientSecret}`) } });
    expect(halfEncoded.status).toBe(200);
  });

  it('an unknown client is invalid_client (401), with a Basic challenge when Basic was used', async () => {
    const viaBasic = await expectRefused(test, () => postForm(tokenUrl, request(basicClient), { basic: ['app_doesnotexist', 'some-secret-value'] }),
      { status: 401, error: 'invalid_client', secrets: ['some-secret-value'] });
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
    const viaPost = await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_id: 'app_doesnotexist', client_secret: 'some-secret-value' })),
      { status: 401, error: 'invalid_client', secrets: ['some-secret-value'] });
    expect(viaPost.body).toEqual(viaBasic.body);
  });

  it('a wrong secret is invalid_client (401) and says no more than an unknown client does', async () => {
    const guess = 'Zm9yZ2VkLXNlY3JldC10aGF0LWlzLTQzLWNoYXJzLWxvbmc';
    const unknown = await postForm(tokenUrl, request(basicClient), { basic: ['app_doesnotexist', guess] });
    const wrongBasic = await expectRefused(test, () => postForm(tokenUrl, request(basicClient), { basic: [basicClient.clientId, guess] }),
      { status: 401, error: 'invalid_client', secrets: [guess, basicClient.clientSecret] });
    expect(wrongBasic.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(wrongBasic.body).toEqual(unknown.body);
    const wrongPost = await expectRefused(test, () => postForm(tokenUrl, request(postClient, { client_id: postClient.clientId, client_secret: guess })),
      { status: 401, error: 'invalid_client', secrets: [guess, postClient.clientSecret] });
    expect(wrongPost.headers.get('www-authenticate')).toBeNull();
    // One client's secret is not another's.
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient), { basic: [basicClient.clientId, postClient.clientSecret] }),
      { status: 401, error: 'invalid_client', secrets: [postClient.clientSecret, basicClient.clientSecret] });
  });

  it('a malformed Basic header is invalid_client with a Basic challenge', async () => {
    for (const authorization of ['Basic', 'Basic !!!not-base64!!!', rawBasic('no-colon-at-all'), rawBasic(`:${basicClient.clientSecret}`), rawBasic(`${basicClient.clientId}:`), rawBasic(`${basicClient.clientId}%ZZ:${basicClient.clientSecret}`)]) {
      const result = await expectRefused(test, () => postForm(tokenUrl, request(basicClient), { headers: { authorization } }), { status: 401, error: 'invalid_client', secrets: [basicClient.clientSecret] });
      expect(result.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
  });

  it('two authentication methods in one request are invalid_request (RFC 6749 §2.3)', async () => {
    const key = await newClientKey();
    const assertion = await clientAssertion(key, basicClient.clientId, test.issuer);
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_id: basicClient.clientId, client_secret: basicClient.clientSecret }), { basic: [basicClient.clientId, basicClient.clientSecret] }),
      { status: 400, error: 'invalid_request', secrets: [basicClient.clientSecret] });
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }), { basic: [basicClient.clientId, basicClient.clientSecret] }),
      { status: 400, error: 'invalid_request', secrets: [basicClient.clientSecret, assertion] });
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_id: basicClient.clientId, client_secret: basicClient.clientSecret, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion })),
      { status: 400, error: 'invalid_request', secrets: [basicClient.clientSecret, assertion] });
  });

  it('a body client_id that contradicts the Basic client is invalid_request', async () => {
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_id: postClient.clientId }), { basic: [basicClient.clientId, basicClient.clientSecret] }),
      { status: 400, error: 'invalid_request', secrets: [basicClient.clientSecret] });
  });

  it('a confidential client naming itself without a credential is invalid_client', async () => {
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_id: basicClient.clientId })), { status: 401, error: 'invalid_client' });
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient, { client_secret: basicClient.clientSecret })), { status: 401, error: 'invalid_client', secrets: [basicClient.clientSecret] });
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient)), { status: 401, error: 'invalid_client' });
  });

  it('a public client cannot pass for a confidential one with a made-up secret', async () => {
    const created = await test.admin('POST', '/applications', { name: 'Public', auth_method: 'none', resources: [basicClient.resource] });
    expect(created.status).toBe(201);
    await expectRefused(test, () => postForm(tokenUrl, request(basicClient), { basic: [created.body.client_id, 'anything-at-all'] }), { status: 401, error: 'invalid_client', secrets: ['anything-at-all'] });
  });

  it('a disabled application is invalid_client (401) even with its right secret', async () => {
    const service = await registerService(test);
    expect((await postForm(tokenUrl, request(service), { basic: [service.clientId, service.clientSecret] })).status).toBe(200);
    expect((await test.admin('POST', `/applications/${service.clientId}/disable`)).status).toBe(200);
    const result = await expectRefused(test, () => postForm(tokenUrl, request(service), { basic: [service.clientId, service.clientSecret] }),
      { status: 401, error: 'invalid_client', secrets: [service.clientSecret] });
    expect(result.headers.get('www-authenticate')).toMatch(/^Basic /);
    await expectRefused(test, () => postForm(tokenUrl, request(service, { client_id: service.clientId, client_secret: service.clientSecret })), { status: 401, error: 'invalid_client', secrets: [service.clientSecret] });
    expect((await test.admin('POST', `/applications/${service.clientId}/enable`)).status).toBe(200);
    expect((await postForm(tokenUrl, request(service), { basic: [service.clientId, service.clientSecret] })).status).toBe(200);
  });
});

describe('client authentication with private_key_jwt', () => {
  let test: TestBroker;
  let tokenUrl: string;
  let esKey: ClientKey;
  let rsKey: ClientKey;
  let es: Service;
  let rs: Service;
  let other: Service;
  let otherKey: ClientKey;

  beforeAll(async () => {
    test = await startBroker();
    tokenUrl = `${test.issuer}/oauth2/token`;
    esKey = await newClientKey('ES256');
    rsKey = await newClientKey('RS256');
    otherKey = await newClientKey('ES256');
    es = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(esKey) });
    rs = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(rsKey) });
    other = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(otherKey) });
  });
  afterAll(() => test.close());

  const withAssertion = (service: Service, assertion: string, extra: Record<string, string> = {}) =>
    postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra });

  /** A refused assertion: 401 invalid_client, not echoed, and its jti not burned. */
  const expectAssertionRefused = (service: Service, assertion: string, extra: Record<string, string> = {}) =>
    expectRefused(test, () => withAssertion(service, assertion, extra), { status: 401, error: 'invalid_client', secrets: [assertion] });

  for (const alg of ['ES256', 'RS256'] as const) {
    it(`authenticates a client by an ${alg} assertion, and the token says key_bound`, async () => {
      const [service, key] = alg === 'ES256' ? [es, esKey] : [rs, rsKey];
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      const result = await withAssertion(service, assertion);
      expect(result.status).toBe(200);
      expect(decodeJwt(result.body.access_token)).toMatchObject({ sub: `client:${service.clientId}`, client_id: service.clientId, trust_level: 'key_bound', aud: service.resource });
      expect(count(test, 'used_assertions', 'issuer = ? AND jti = ?', service.clientId, decodeJwt(assertion).jti)).toBe(1);
    });
  }

  it('accepts the token endpoint URL as audience as well as the issuer (RFC 7523 §3)', async () => {
    const result = await withAssertion(es, await clientAssertion(esKey, es.clientId, tokenUrl));
    expect(result.status).toBe(200);
  });

  it('accepts a matching client_id alongside the assertion', async () => {
    const result = await withAssertion(es, await clientAssertion(esKey, es.clientId, test.issuer), { client_id: es.clientId });
    expect(result.status).toBe(200);
  });

  it('an assertion with alg none is refused', async () => {
    await expectAssertionRefused(es, unsignedAssertion(assertionClaims(es.clientId, test.issuer), esKey.kid));
    await expectAssertionRefused(es, unsignedAssertion(assertionClaims(es.clientId, test.issuer)));
  });

  it('an assertion signed with HS256 using the public key (PEM) as secret is refused', async () => {
    await expectAssertionRefused(es, await hmacWithPublicKey(esKey, assertionClaims(es.clientId, test.issuer), 'pem'));
    await expectAssertionRefused(rs, await hmacWithPublicKey(rsKey, assertionClaims(rs.clientId, test.issuer), 'pem'));
  });

  it('an assertion signed with HS256 using the public JWK as secret is refused', async () => {
    await expectAssertionRefused(es, await hmacWithPublicKey(esKey, assertionClaims(es.clientId, test.issuer), 'jwk'));
  });

  it('an assertion naming a kid the client never registered is refused', async () => {
    await expectAssertionRefused(es, await signAssertion(esKey, assertionClaims(es.clientId, test.issuer), { kid: 'not-a-registered-kid' }));
  });

  it('an assertion signed by a key the client did not register is refused, even under a registered kid', async () => {
    const stranger = await newClientKey('ES256', esKey.kid);
    await expectAssertionRefused(es, await clientAssertion(stranger, es.clientId, test.issuer));
  });

  it('an assertion that brings its own key in the header (jwk, jku) is refused: keys come from the registration only', async () => {
    const stranger = await newClientKey('ES256', esKey.kid);
    const claims = assertionClaims(es.clientId, test.issuer);
    await expectAssertionRefused(es, await signAssertion(stranger, claims, { jwk: { kty: stranger.publicJwk.kty, crv: stranger.publicJwk.crv, x: stranger.publicJwk.x, y: stranger.publicJwk.y } }));
    await expectAssertionRefused(es, await signAssertion(stranger, assertionClaims(es.clientId, test.issuer), { jku: 'https://attacker.example/jwks.json' }));
  });

  it('an assertion whose signature was tampered with is refused', async () => {
    const assertion = await clientAssertion(esKey, es.clientId, test.issuer);
    const [header, payload, signature] = assertion.split('.');
    const flipped = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;
    await expectAssertionRefused(es, `${header}.${payload}.${flipped}`);
    // And claims swapped under a valid signature.
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(assertion), exp: Math.floor(Date.now() / 1000) + 200 })).toString('base64url');
    await expectAssertionRefused(es, `${header}.${forged}.${signature}`);
  });

  it('an assertion presented twice is refused the second time (replayed jti)', async () => {
    const assertion = await clientAssertion(esKey, es.clientId, test.issuer);
    expect((await withAssertion(es, assertion)).status).toBe(200);
    await expectRefused(test, () => withAssertion(es, assertion), { status: 401, error: 'invalid_client', secrets: [assertion] });
    // A new assertion reusing the jti is a replay too.
    const sameJti = await clientAssertion(esKey, es.clientId, tokenUrl, { jti: decodeJwt(assertion).jti });
    await expectRefused(test, () => withAssertion(es, sameJti), { status: 401, error: 'invalid_client', secrets: [sameJti] });
  });

  it('an array aud is refused, even one containing the issuer', async () => {
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, [test.issuer]));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, [test.issuer, 'https://other-as.example/']));
  });

  it('an aud that is neither the issuer nor the token endpoint is refused', async () => {
    for (const aud of ['https://other-as.example/', `${test.issuer}/`, `${test.issuer}/oauth2/token/introspect`, test.issuer.replace('127.0.0.1', 'localhost'), '']) {
      await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, aud));
    }
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { aud: undefined }));
  });

  it('an expired assertion is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { iat: now - 600, exp: now - 120 }));
  });

  it('an assertion that lives longer than 5 minutes is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { exp: now + 3600 }));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { exp: now + 400 }));
  });

  it('an assertion without exp is refused', async () => {
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { exp: undefined }));
  });

  it('an assertion without jti, or with an empty jti, is refused', async () => {
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { jti: undefined }));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { jti: '' }));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { jti: 42 }));
  });

  it('an assertion not yet valid (nbf in the future) is refused', async () => {
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { nbf: Math.floor(Date.now() / 1000) + 120 }));
  });

  it('an assertion whose sub is not the client is refused, and burns nothing', async () => {
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { sub: other.clientId }));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { sub: undefined }));
  });

  it('an assertion whose iss is another client, or nobody, is refused', async () => {
    // Signed with the client's key but claiming to come from another client.
    await expectAssertionRefused(es, await clientAssertion(esKey, other.clientId, test.issuer, { sub: es.clientId }));
    await expectAssertionRefused(es, await clientAssertion(esKey, other.clientId, test.issuer));
    await expectAssertionRefused(es, await clientAssertion(esKey, 'app_nobody', test.issuer));
    await expectAssertionRefused(es, await clientAssertion(esKey, es.clientId, test.issuer, { iss: undefined }));
  });

  it('an assertion that contradicts the body client_id is refused', async () => {
    const assertion = await clientAssertion(esKey, es.clientId, test.issuer);
    await expectRefused(test, () => withAssertion(es, assertion, { client_id: other.clientId }), { status: 400, error: 'invalid_request', secrets: [assertion] });
    // Refused before the jti was used: the same assertion still authenticates.
    expect((await withAssertion(es, assertion)).status).toBe(200);
  });

  it('a client registered for a client secret cannot authenticate by assertion, even with a JWKS on file', async () => {
    const key = await newClientKey();
    const secretClient = await registerService(test, { jwks: jwksOf(key) });
    const assertion = await clientAssertion(key, secretClient.clientId, test.issuer);
    await expectAssertionRefused(secretClient, assertion);
  });

  it('a private_key_jwt client cannot fall back to a client secret', async () => {
    await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: es.resource }, { basic: [es.clientId, 'guessed-secret'] }),
      { status: 401, error: 'invalid_client', secrets: ['guessed-secret'] });
  });

  it('a wrong or missing client_assertion_type, or a missing assertion, is invalid_client', async () => {
    const assertion = await clientAssertion(esKey, es.clientId, test.issuer);
    await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: es.resource, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: assertion }),
      { status: 401, error: 'invalid_client', secrets: [assertion] });
    await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: es.resource, client_assertion: assertion }),
      { status: 401, error: 'invalid_client', secrets: [assertion] });
    await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: es.resource, client_assertion_type: ASSERTION_TYPE }), { status: 401, error: 'invalid_client' });
    await expectAssertionRefused(es, 'not.a.jwt');
    expect((await withAssertion(es, assertion)).status).toBe(200);
  });

  it('a disabled private_key_jwt client is invalid_client', async () => {
    const key = await newClientKey();
    const service = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(key) });
    await test.admin('POST', `/applications/${service.clientId}/disable`);
    await expectAssertionRefused(service, await clientAssertion(key, service.clientId, test.issuer));
  });
});

describe('assertion replay across a restart', () => {
  it('a jti used before the broker restarted is still refused after it', async () => {
    let test = await startBroker();
    const dataDir = test.dataDir;
    try {
      const key = await newClientKey();
      const service = await registerService(test, { authMethod: 'private_key_jwt', jwks: jwksOf(key) });
      const assertion = await clientAssertion(key, service.clientId, test.issuer);
      const send = (broker: TestBroker) => postForm(`${broker.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
      expect((await send(test)).status).toBe(200);

      test = await test.restart();
      await expectRefused(test, () => send(test), { status: 401, error: 'invalid_client', secrets: [assertion] });
      // Signed afresh for whatever issuer the restarted broker has, the old jti is still spent.
      const replay = await clientAssertion(key, service.clientId, test.issuer, { jti: decodeJwt(assertion).jti });
      await expectRefused(test, () => postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, client_assertion_type: ASSERTION_TYPE, client_assertion: replay }),
        { status: 401, error: 'invalid_client', secrets: [replay] });
      // A fresh jti still works after the restart.
      const fresh = await clientAssertion(key, service.clientId, test.issuer);
      expect((await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: service.resource, client_assertion_type: ASSERTION_TYPE, client_assertion: fresh })).status).toBe(200);
    } finally {
      await test.close();
      removeDataDir(dataDir);
    }
  });
});
