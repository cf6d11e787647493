// The agent client (client/): fresh credentials from a real broker over its socket and over loopback
// HTTP, the cache (hit, renewal before expiry by an injected clock, single flight), token exchange,
// impersonation's request, and typed errors that never carry the secret.
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LatchkeyClient, LatchkeyConfigurationError, LatchkeyOAuthError, LatchkeyUnreachableError, credentialsFromEnv,
} from '../../client/index.js';
import { count, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { basicCredentials, RecordingTokenEndpoint } from '../support/recording-token-endpoint.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

describe('the agent client against a real broker', () => {
  let test: TestBroker;
  let service: Service;
  const issued = (): number => count(test, 'issued_tokens');
  const overSocket = (extra: { now?: () => number } = {}) => new LatchkeyClient({ endpoint: { socket: test.socket! }, credentials: { clientId: service.clientId, clientSecret: service.clientSecret }, ...extra });

  beforeAll(async () => {
    test = await startBroker({ socket: true });
    service = await registerService(test, { scopes: ['read', 'write'] });
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('getToken over the socket gives a token for the resource that verifies against the JWKS', async () => {
    const credential = await overSocket().getToken({ resource: service.resource, scope: ['read'] });
    const { payload, protectedHeader } = await jwtVerify(credential.accessToken, createRemoteJWKSet(new URL(`${test.issuer}/.well-known/jwks.json`)), { issuer: test.issuer, audience: service.resource });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: service.clientId, scope: 'read', grant_type: 'client_credentials' });
    expect(credential).toMatchObject({ tokenType: 'Bearer', scope: ['read'], response: { access_token: credential.accessToken, expires_in: 600 } });
  });

  it('getToken over loopback HTTP, and with an API key (the api-key grant)', async () => {
    const overHttp = new LatchkeyClient({ endpoint: { issuer: test.issuer }, credentials: { clientId: service.clientId, clientSecret: service.clientSecret } });
    expect(decodeJwt((await overHttp.getToken({ resource: service.resource })).accessToken).aud).toBe(service.resource);
    const key = await test.admin('POST', `/applications/${service.clientId}/api-keys`, {});
    expect(key.status).toBe(201);
    const withKey = new LatchkeyClient({ endpoint: { socket: test.socket! }, credentials: { apiKey: key.body.api_key } });
    expect(decodeJwt((await withKey.getToken({ resource: service.resource })).accessToken)).toMatchObject({ aud: service.resource, trust_level: 'api_key' });
  });

  it('a second getToken for the same resource, scopes and user is answered from the cache; other scopes are not', async () => {
    const client = overSocket();
    const before = issued();
    const first = await client.getToken({ resource: service.resource, scope: ['read', 'write'] });
    const again = await client.getToken({ resource: service.resource, scope: ['write', 'read', 'read'] });
    expect(again.accessToken).toBe(first.accessToken);
    expect(issued()).toBe(before + 1);
    const narrower = await client.getToken({ resource: service.resource, scope: ['read'] });
    expect(narrower.accessToken).not.toBe(first.accessToken);
    expect(issued()).toBe(before + 2);
  });

  it('a cached token is renewed min(60 s, 10 % of its lifetime) before it expires, by the client\'s clock', async () => {
    let now = Date.now();
    const client = overSocket({ now: () => now });
    const first = await client.getToken({ resource: service.resource });
    expect(first.expiresAt).toBe(now + 600_000);
    now += 600_000 - 61_000; // 61 s left of 600: still good
    expect((await client.getToken({ resource: service.resource })).accessToken).toBe(first.accessToken);
    now += 2_000; // 59 s left: renewed
    const renewed = await client.getToken({ resource: service.resource });
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect(decodeJwt(renewed.accessToken).jti).not.toBe(decodeJwt(first.accessToken).jti);
  });

  it('ten concurrent getToken calls for the same key make one request (single flight)', async () => {
    const client = overSocket();
    const before = issued();
    const credentials = await Promise.all(Array.from({ length: 10 }, () => client.getToken({ resource: service.resource, scope: ['write'] })));
    expect(new Set(credentials.map((credential) => credential.accessToken)).size).toBe(1);
    expect(issued()).toBe(before + 1);
  });

  it('exchange: the application serving a resource exchanges a token it received for one to its own dependency', async () => {
    const next = await registerService(test, { scopes: ['next:read'], grantTypes: ['token-exchange'] });
    const served = 'https://served.example.test/';
    expect((await test.admin('POST', '/resources', { name: 'Served', identifier: served, scopes: ['s:use'], served_by: next.clientId })).status).toBe(201);
    const caller = await registerService(test, { resource: served });
    const received = await new LatchkeyClient({ endpoint: { socket: test.socket! }, credentials: { clientId: caller.clientId, clientSecret: caller.clientSecret } }).getToken({ resource: served });
    const server = new LatchkeyClient({ endpoint: { issuer: test.issuer }, credentials: { clientId: next.clientId, clientSecret: next.clientSecret } });
    const exchanged = await server.exchange({ subjectToken: received.accessToken, resource: next.resource });
    expect(exchanged.issuedTokenType).toBe(ACCESS_TOKEN);
    expect(decodeJwt(exchanged.accessToken)).toMatchObject({ aud: next.resource, sub: `client:${caller.clientId}`, act: { client_id: next.clientId }, delegation_depth: 1 });
  });

  it('a refusal is a LatchkeyOAuthError with the OAuth error code, its description and the HTTP status, never the secret', async () => {
    const wrong = new LatchkeyClient({ endpoint: { socket: test.socket! }, credentials: { clientId: service.clientId, clientSecret: 'not-the-secret' } });
    const refused = await wrong.getToken({ resource: service.resource }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LatchkeyOAuthError);
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(JSON.stringify({ ...(refused as object), message: (refused as Error).message, stack: (refused as Error).stack })).not.toContain('not-the-secret');
    const unknown = await overSocket().getToken({ resource: 'https://nowhere.example.test/' }).catch((error: unknown) => error);
    expect(unknown).toMatchObject({ error: 'invalid_target', status: 400 });
    expect((unknown as LatchkeyOAuthError).errorDescription).toMatch(/resource/);
    // A failure is not cached: the next call asks again.
    expect((await overSocket().getToken({ resource: service.resource, scope: ['read'] })).accessToken).toMatch(/^eyJ/);
  });

  it('impersonation over the socket is refused by this broker as invalid_request (until impersonation lands)', async () => {
    const exchanger = await registerService(test, { resource: service.resource, grantTypes: ['client_credentials', 'token-exchange'] });
    const client = new LatchkeyClient({ endpoint: { socket: test.socket! }, credentials: { clientId: exchanger.clientId, clientSecret: exchanger.clientSecret } });
    await expect(client.impersonate({ user: 'ada@example.com', resource: service.resource })).rejects.toBeInstanceOf(LatchkeyOAuthError);
  });

  it('a broker that is not there is a LatchkeyUnreachableError naming where the client looked', async () => {
    const missing = join(test.dataDir, 'no.sock');
    const client = new LatchkeyClient({ endpoint: { socket: missing }, credentials: { clientId: service.clientId, clientSecret: service.clientSecret } });
    const error = await client.getToken({ resource: service.resource }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LatchkeyUnreachableError);
    expect((error as Error).message).toBe(`cannot reach the broker at ${missing}: ENOENT`);
  });
});

describe('the agent client\'s requests', () => {
  let endpoint: RecordingTokenEndpoint;
  beforeAll(async () => { endpoint = await RecordingTokenEndpoint.start(); });
  afterAll(() => endpoint.close());

  it('client_secret_basic form-urlencodes each half before base64 (RFC 6749 §2.3.1)', async () => {
    const client = LatchkeyClient.fromDataDir(endpoint.dataDir, { clientId: 'app id', clientSecret: 'a+b:c%d é' });
    await client.getToken({ resource: 'https://r.example.test/' });
    const sent = endpoint.requests.at(-1)!;
    expect(String(sent.headers.authorization)).toBe(`Basic ${Buffer.from('app+id:a%2Bb%3Ac%25d+%C3%A9').toString('base64')}`);
    expect(basicCredentials(sent.headers.authorization)).toEqual(['app id', 'a+b:c%d é']);
    expect(Object.fromEntries(sent.form)).toEqual({ grant_type: 'client_credentials', resource: 'https://r.example.test/' });
  });

  it('impersonate sends a token exchange whose subject token is the user, typed substitute-user, with resource and scope', async () => {
    const client = LatchkeyClient.fromDataDir(endpoint.dataDir, { clientId: 'app_1', clientSecret: 's3cret' });
    await client.impersonate({ user: 'ada@example.com', resource: 'https://r.example.test/', scope: ['b', 'a'] });
    const sent = endpoint.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/oauth2/token' });
    expect(basicCredentials(sent.headers.authorization)).toEqual(['app_1', 's3cret']);
    expect(Object.fromEntries(sent.form)).toEqual({ grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: 'https://r.example.test/', scope: 'a b' });
  });

  it('exchange sends the subject and actor tokens with their types', async () => {
    const client = LatchkeyClient.fromDataDir(endpoint.dataDir, { clientId: 'app_1', clientSecret: 's3cret' });
    await client.exchange({ subjectToken: 'subject', resource: 'https://r.example.test/', actorToken: 'actor' });
    expect(Object.fromEntries(endpoint.requests.at(-1)!.form)).toEqual({ grant_type: TOKEN_EXCHANGE, subject_token: 'subject', subject_token_type: ACCESS_TOKEN, resource: 'https://r.example.test/', actor_token: 'actor', actor_token_type: ACCESS_TOKEN });
  });

  it('single flight holds while the broker is slow; a failed request is shared by its waiters and not cached', async () => {
    const client = LatchkeyClient.fromDataDir(endpoint.dataDir, { apiKey: 'lk_sk_secret' });
    const before = endpoint.requests.length;
    endpoint.answer = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'the API key lk_sk_secret is invalid' }, delayMs: 50 });
    const failures = await Promise.all(Array.from({ length: 5 }, () => client.getToken({ resource: 'https://slow.example.test/' }).catch((error: unknown) => error)));
    expect(endpoint.requests.length).toBe(before + 1);
    for (const failure of failures) {
      expect(failure).toMatchObject({ error: 'invalid_grant', errorDescription: 'the API key [redacted] is invalid' });
      expect((failure as Error).message).not.toContain('lk_sk_secret');
    }
    expect(Object.fromEntries(endpoint.requests.at(-1)!.form)).toEqual({ grant_type: 'urn:latchkey:params:oauth:grant-type:api-key', api_key: 'lk_sk_secret', resource: 'https://slow.example.test/' });
    endpoint.answer = () => ({ status: 200, body: { access_token: 'fresh', token_type: 'Bearer', expires_in: 30 }, delayMs: 50 });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => client.getToken({ resource: 'https://slow.example.test/' })));
    expect(tokens.map((token) => token.accessToken)).toEqual(Array(5).fill('fresh'));
    expect(endpoint.requests.length).toBe(before + 2);
  });

  it('exchange and impersonation need the client id and secret: with an API key they are refused before anything is sent', async () => {
    const client = LatchkeyClient.fromDataDir(endpoint.dataDir, { apiKey: 'lk_sk_secret' });
    const before = endpoint.requests.length;
    await expect(client.impersonate({ user: 'ada@example.com', resource: 'https://r.example.test/' })).rejects.toBeInstanceOf(LatchkeyConfigurationError);
    await expect(client.exchange({ subjectToken: 't', resource: 'https://r.example.test/' })).rejects.toThrow(/needs the client's id and secret/);
    expect(endpoint.requests.length).toBe(before);
  });

  it('credentials come from LATCHKEY_CLIENT_ID + LATCHKEY_CLIENT_SECRET or LATCHKEY_API_KEY; an incomplete or doubled set is refused', () => {
    expect(credentialsFromEnv({ LATCHKEY_CLIENT_ID: 'a', LATCHKEY_CLIENT_SECRET: 's' })).toEqual({ clientId: 'a', clientSecret: 's' });
    expect(credentialsFromEnv({ LATCHKEY_API_KEY: 'lk_sk_x' })).toEqual({ apiKey: 'lk_sk_x' });
    expect(() => credentialsFromEnv({})).toThrow(/no client credentials/);
    expect(() => credentialsFromEnv({ LATCHKEY_CLIENT_ID: 'a' })).toThrow(/LATCHKEY_CLIENT_SECRET is not/);
    expect(() => credentialsFromEnv({ LATCHKEY_API_KEY: 'k', LATCHKEY_CLIENT_SECRET: 's' })).toThrow(/set one of them/);
  });

  it('a loopback issuer only: a credential is never sent off this machine', () => {
    expect(() => new LatchkeyClient({ endpoint: { issuer: 'http://example.com' }, credentials: { apiKey: 'k' } })).toThrow(LatchkeyConfigurationError);
    expect(() => new LatchkeyClient({ endpoint: { issuer: 'https://127.0.0.1:7433' }, credentials: { apiKey: 'k' } })).toThrow(/http on loopback/);
  });
});
