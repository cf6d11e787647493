// The token endpoint's perimeter (Host, Origin, body, CORS) and its fixed pipeline (duplicates →
// grant type → client → grant allowed → the grant's own parameters), plus discovery and JWKS, against
// a real broker: each bad input gets the RFC's code, issues nothing and leaves a `deny` audit row.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, postForm, registerService, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { auditSince, auditHead, expectNoCors, expectRefused, rawRequest } from '../support/refusals.js';

describe('token endpoint', () => {
  let test: TestBroker;
  let service: Service;
  let tokenUrl: string;
  let port: string;

  beforeAll(async () => {
    test = await startBroker();
    tokenUrl = `${test.issuer}/oauth2/token`;
    port = new URL(test.issuer).port;
    service = await registerService(test, { scopes: ['read', 'write', 'admin'], appScopes: ['read', 'write'] });
  });
  afterAll(() => test.close());

  const basic = (): [string, string] => [service.clientId, service.clientSecret];
  const clientCredentials = (extra: Record<string, string | string[]> = {}) =>
    postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, ...extra }, { basic: basic() });

  it('issues a token for a well-formed request (the baseline every refusal below departs from)', async () => {
    const result = await clientCredentials({ scope: 'read' });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expectNoCors(result.headers);
  });

  describe('perimeter', () => {
    it('refuses a foreign Host header with 403 before routing, on every surface', async () => {
      const surfaces: Array<{ method: string; path: string; headers?: Record<string, string>; body?: string }> = [
        { method: 'POST', path: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' },
        { method: 'POST', path: '/oauth2/token/introspect', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' },
        { method: 'POST', path: '/oauth2/token/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' },
        { method: 'GET', path: '/.well-known/oauth-authorization-server' },
        { method: 'GET', path: '/.well-known/openid-configuration' },
        { method: 'GET', path: '/.well-known/jwks.json' },
        { method: 'GET', path: '/api/status', headers: { authorization: `Bearer ${test.broker.adminToken}` } },
        // A path that does not exist still gets 403, not 404: the Host check runs before routing.
        { method: 'GET', path: '/no-such-path' },
      ];
      for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1', `127.0.0.2:${port}`, `[::1]:${port}`, `127.0.0.1:${port}.evil.example`]) {
        for (const surface of surfaces) {
          const result = await rawRequest(test.issuer, { ...surface, headers: { ...surface.headers, host } });
          expect({ host, path: surface.path, status: result.status, error: result.body?.error }).toEqual({ host, path: surface.path, status: 403, error: 'forbidden' });
          expect(result.text).not.toContain(test.broker.adminToken);
          expectNoCors(result.headers);
        }
      }
    });

    it('refuses a DNS-rebound token request with 403, issues nothing and audits the refusal', async () => {
      await expectRefused(test, () => rawRequest(test.issuer, {
        method: 'POST',
        path: '/oauth2/token',
        headers: { host: `attacker.example:${port}`, 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: service.resource }).toString(),
      }), { status: 403, error: 'forbidden', secrets: [service.clientSecret] });
    });

    it('refuses a request without any Host header (HTTP/1.0 may omit it)', async () => {
      const head = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /.well-known/jwks.json HTTP/1.0\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(head).toMatch(/^HTTP\/1\.[01] 403 /);
      expect(head).not.toMatch(/"keys"/);
    });

    it('answers to localhost:PORT as well as 127.0.0.1:PORT', async () => {
      const result = await rawRequest(test.issuer, { method: 'GET', path: '/.well-known/jwks.json', headers: { host: `localhost:${port}` } });
      expect(result.status).toBe(200);
    });

    for (const [endpoint, path] of [['token', '/oauth2/token'], ['introspection', '/oauth2/token/introspect'], ['revocation', '/oauth2/token/revoke']] as const) {
      it(`refuses a foreign Origin on the ${endpoint} endpoint with 403 (a web page must not drive it)`, async () => {
        const params: Record<string, string> = endpoint === 'token' ? { grant_type: 'client_credentials', resource: service.resource } : { token: 'anything' };
        for (const origin of ['http://evil.example', 'null', `http://localhost:${port}`, `https://127.0.0.1:${port}`]) {
          await expectRefused(test, () => postForm(`${test.issuer}${path}`, params, { basic: basic(), headers: { origin } }), { status: 403, error: 'forbidden', secrets: [service.clientSecret] });
        }
      });
    }

    it('refuses a foreign Origin before reading the body, whatever the body (a browser\'s simple cross-origin POST)', async () => {
      for (const path of ['/oauth2/token', '/oauth2/token/introspect', '/oauth2/token/revoke']) {
        for (const [contentType, body] of [['text/plain', 'grant_type=client_credentials'], ['multipart/form-data; boundary=x', '--x--'], ['application/json', '{not json'], ['application/x-www-form-urlencoded', 'x='.repeat(40_000)]]) {
          await expectRefused(test, () => postForm(`${test.issuer}${path}`, body!, { headers: { origin: 'http://evil.example', 'content-type': contentType! } }), { status: 403, error: 'forbidden' });
        }
      }
    });

    it('accepts its own Origin', async () => {
      const result = await postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource }, { basic: basic(), headers: { origin: test.issuer } });
      expect(result.status).toBe(200);
      expectNoCors(result.headers);
    });

    it('never answers a CORS preflight or adds Access-Control-* headers', async () => {
      for (const path of ['/oauth2/token', '/oauth2/token/introspect', '/oauth2/token/revoke', '/.well-known/openid-configuration', '/.well-known/jwks.json', '/api/status']) {
        const preflight = await rawRequest(test.issuer, {
          method: 'OPTIONS',
          path,
          headers: { host: new URL(test.issuer).host, origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        });
        expect(preflight.status).toBeGreaterThanOrEqual(400);
        expectNoCors(preflight.headers);
      }
      const discovery = await fetch(`${test.issuer}/.well-known/oauth-authorization-server`, { headers: { origin: 'http://evil.example' } });
      expect(discovery.status).toBe(200);
      expectNoCors(discovery.headers);
    });

    it('refuses a JSON body with invalid_request and issues nothing', async () => {
      await expectRefused(test, async () => {
        const response = await fetch(tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credentials', client_id: service.clientId, client_secret: service.clientSecret, resource: service.resource }),
        });
        const text = await response.text();
        return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
      }, { status: 400, error: 'invalid_request', secrets: [service.clientSecret] });
    });

    it('refuses parameters in the query string, even alongside a valid body, and does not echo them', async () => {
      await expectRefused(test, () => postForm(`${tokenUrl}?client_secret=${service.clientSecret}`, { grant_type: 'client_credentials', resource: service.resource }, { basic: basic() }),
        { status: 400, error: 'invalid_request', secrets: [service.clientSecret] });
      await expectRefused(test, () => postForm(`${tokenUrl}?grant_type=client_credentials`, '', { basic: basic() }), { status: 400, error: 'invalid_request' });
    });

    it('refuses a body over 64 KiB with 413 and a JSON error', async () => {
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, padding: 'x'.repeat(65 * 1024) }, { basic: basic() }),
        { status: 413, error: 'invalid_request', secrets: [service.clientSecret] });
    });

    it('refuses a body that is neither a form nor JSON', async () => {
      await expectRefused(test, () => postForm(tokenUrl, 'grant_type=client_credentials', { basic: basic(), headers: { 'content-type': 'text/plain' } }), { status: 415, error: 'invalid_request' });
    });

    it('refuses a form with more parameters than any request needs', async () => {
      const params: Record<string, string> = { grant_type: 'client_credentials', resource: service.resource };
      for (let i = 0; i < 70; i++) params[`p${i}`] = 'x';
      await expectRefused(test, () => postForm(tokenUrl, params, { basic: basic() }), { status: 400, error: 'invalid_request' });
    });

    it('accepts a form content type with a charset parameter', async () => {
      const result = await postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource }, { basic: basic(), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' } });
      expect(result.status).toBe(200);
    });
  });

  describe('pipeline', () => {
    it('refuses a request without grant_type with invalid_request', async () => {
      await expectRefused(test, () => postForm(tokenUrl, { resource: service.resource }, { basic: basic() }), { status: 400, error: 'invalid_request', secrets: [service.clientSecret] });
    });

    it('refuses an unknown grant type with unsupported_grant_type', async () => {
      await expectRefused(test, () => clientCredentials({ grant_type: 'urn:example:params:oauth:grant-type:magic' }), { status: 400, error: 'unsupported_grant_type', secrets: [service.clientSecret] });
    });

    it('refuses the password and implicit grants OAuth 2.1 removed with unsupported_grant_type', async () => {
      for (const grantType of ['password', 'implicit', 'token', 'code id_token']) {
        await expectRefused(test, () => postForm(tokenUrl, { grant_type: grantType, username: 'owner', password: 'hunter2', resource: service.resource }, { basic: basic() }),
          { status: 400, error: 'unsupported_grant_type', secrets: ['hunter2', service.clientSecret] });
      }
    });

    it('refuses grant type names that are properties of every JavaScript object, and audits them', async () => {
      for (const grantType of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        await expectRefused(test, () => clientCredentials({ grant_type: grantType }), { status: 400, error: 'unsupported_grant_type' });
      }
    });

    it('refuses a duplicated parameter with invalid_request, before looking at the client', async () => {
      await expectRefused(test, () => clientCredentials({ scope: ['read', 'read'] }), { status: 400, error: 'invalid_request', secrets: [service.clientSecret] });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: ['client_credentials', 'client_credentials'], resource: service.resource }, { basic: basic() }), { status: 400, error: 'invalid_request' });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, client_id: [service.clientId, service.clientId], client_secret: service.clientSecret }),
        { status: 400, error: 'invalid_request', secrets: [service.clientSecret] });
      const twoSecrets = await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: service.resource, client_id: service.clientId, client_secret: [service.clientSecret, 'guess-number-two'] }),
        { status: 400, error: 'invalid_request', secrets: [service.clientSecret, 'guess-number-two'] });
      expect(twoSecrets.body.error_description).toMatch(/client_secret/);
    });

    it('lets resource repeat (RFC 8707) but issues one resource per token: two resources are invalid_target', async () => {
      const other = await registerService(test);
      await test.admin('POST', '/resources', { name: 'Second', identifier: 'https://second.example.test/', scopes: ['read'] });
      const result = await expectRefused(test, () => clientCredentials({ resource: [service.resource, other.resource] }), { status: 400, error: 'invalid_target' });
      expect(result.body.error_description).toMatch(/one resource per token/);
      await expectRefused(test, () => clientCredentials({ resource: [service.resource, service.resource] }), { status: 400, error: 'invalid_target' });
    });

    it('refuses a scope the client may not have with invalid_scope', async () => {
      await expectRefused(test, () => clientCredentials({ scope: 'read admin' }), { status: 400, error: 'invalid_scope', secrets: [service.clientSecret] });
      await expectRefused(test, () => clientCredentials({ scope: 'delete' }), { status: 400, error: 'invalid_scope' });
      await expectRefused(test, () => clientCredentials({ scope: 'read "quoted"' }), { status: 400, error: 'invalid_scope' });
    });

    it('refuses an unknown resource and another app\'s resource alike with invalid_target', async () => {
      const other = await registerService(test);
      const unknown = await expectRefused(test, () => clientCredentials({ resource: 'https://nowhere.example.test/' }), { status: 400, error: 'invalid_target' });
      const notMine = await expectRefused(test, () => clientCredentials({ resource: other.resource }), { status: 400, error: 'invalid_target' });
      // The endpoint is not a directory of resources: unknown and not-allowed read the same.
      expect(notMine.body).toEqual(unknown.body);
      await expectRefused(test, () => clientCredentials({ resource: 'not a uri' }), { status: 400, error: 'invalid_target' });
      await expectRefused(test, () => clientCredentials({ resource: `${service.resource}#fragment` }), { status: 400, error: 'invalid_target' });
    });

    it('refuses client_credentials for a public client with unauthorized_client', async () => {
      const created = await test.admin('POST', '/applications', { name: 'Desktop CLI', auth_method: 'none', resources: [service.resource] });
      expect(created.status).toBe(201);
      expect(created.body.client_type).toBe('public');
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', client_id: created.body.client_id, resource: service.resource }), { status: 400, error: 'unauthorized_client' });
    });

    it('refuses a grant the client is not registered for with unauthorized_client', async () => {
      const apiKeyOnly = await registerService(test, { grantTypes: ['api_key'] });
      await expectRefused(test, () => postForm(tokenUrl, { grant_type: 'client_credentials', resource: apiKeyOnly.resource }, { basic: [apiKeyOnly.clientId, apiKeyOnly.clientSecret] }),
        { status: 400, error: 'unauthorized_client', secrets: [apiKeyOnly.clientSecret] });
    });

    it('records each refusal with its reason but without the secret', async () => {
      const head = auditHead(test);
      await clientCredentials({ scope: 'admin' });
      const rows = auditSince(test, head);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ event: 'token.refused', decision: 'deny', client_id: service.clientId });
      expect(rows[0]!.reason).toMatch(/^invalid_scope/);
    });

    it('issues nothing when the audit row cannot be written (fail closed): 500 server_error', async () => {
      const before = count(test, 'issued_tokens');
      test.broker.db.exec("CREATE TEMP TRIGGER audit_unwritable BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
      try {
        const result = await clientCredentials({ scope: 'read' });
        expect(result.status).toBe(500);
        expect(result.body).toEqual({ error: 'server_error', error_description: expect.any(String) });
        expect(result.text).not.toContain('disk says no');
        expect(result.body.access_token).toBeUndefined();
      } finally {
        test.broker.db.exec('DROP TRIGGER temp.audit_unwritable');
      }
      expect(count(test, 'issued_tokens')).toBe(before);
      expect((await clientCredentials({ scope: 'read' })).status).toBe(200);
    });
  });
});

describe('discovery and JWKS', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker();
  });
  afterAll(() => test.close());

  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    it(`${path} names the exact issuer, endpoints, methods and grants`, async () => {
      const response = await fetch(`${test.issuer}${path}`);
      expect(response.status).toBe(200);
      const metadata = await response.json() as Record<string, unknown>;
      expect(test.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(metadata).toMatchObject({
        issuer: test.issuer,
        token_endpoint: `${test.issuer}/oauth2/token`,
        introspection_endpoint: `${test.issuer}/oauth2/token/introspect`,
        revocation_endpoint: `${test.issuer}/oauth2/token/revoke`,
        jwks_uri: `${test.issuer}/.well-known/jwks.json`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
      expect([...(metadata.grant_types_supported as string[])].sort()).toEqual([
        'authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:latchkey:params:oauth:grant-type:api-key',
        'urn:openid:params:grant-type:ciba',
      ]);
      expect(metadata.grant_types_supported).not.toContain('password');
      expect(metadata.grant_types_supported).not.toContain('implicit');
      expect([...(metadata.token_endpoint_auth_methods_supported as string[])].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
      // Introspection needs a confidential client (RFC 7662 §2.1); revocation takes a public client's client_id (RFC 7009 §2.1).
      expect([...(metadata.introspection_endpoint_auth_methods_supported as string[])].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
      expect([...(metadata.revocation_endpoint_auth_methods_supported as string[])].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
      for (const member of ['token_endpoint_auth_signing_alg_values_supported', 'introspection_endpoint_auth_signing_alg_values_supported', 'revocation_endpoint_auth_signing_alg_values_supported']) {
        expect(metadata[member]).toEqual(expect.arrayContaining(['ES256', 'RS256']));
        expect(metadata[member]).not.toContain('none');
        expect((metadata[member] as string[]).filter((alg) => alg.startsWith('HS'))).toEqual([]);
      }
    });

    it(`${path} takes nothing from request headers: Host localhost:PORT gets the 127.0.0.1 issuer`, async () => {
      const port = new URL(test.issuer).port;
      const viaLocalhost = await rawRequest(test.issuer, { method: 'GET', path, headers: { host: `localhost:${port}`, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example;proto=https' } });
      expect(viaLocalhost.status).toBe(200);
      expect(viaLocalhost.body.issuer).toBe(test.issuer);
      expect(viaLocalhost.body.token_endpoint).toBe(`${test.issuer}/oauth2/token`);
      expect(viaLocalhost.text).not.toContain('localhost');
      expect(viaLocalhost.text).not.toContain('evil.example');
    });
  }

  it('publishes only the public members of its signing keys', async () => {
    const response = await fetch(`${test.issuer}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const jwks = await response.json() as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.some((key) => key.alg === 'ES256')).toBe(true);
    for (const key of jwks.keys) {
      expect(typeof key.kid).toBe('string');
      expect(key.use).toBe('sig');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(key).not.toHaveProperty(member);
      expect(Object.keys(key).every((member) => ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use'].includes(member))).toBe(true);
    }
  });
});
