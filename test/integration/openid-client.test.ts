// An independent OAuth client, openid-client v6 used as its README says, against a running
// `latchkey serve` child process whose resource and applications were registered with the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PASSPHRASE, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';

const RESOURCE = 'https://calendar.example.test/api';

describe('openid-client against latchkey serve', () => {
  let dataDir: string;
  let serve: ServeProcess;
  const apps: Record<string, { client_id: string; client_secret: string }> = {};

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-openid-client-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    const cli = (...args: string[]) => latchkeyJson([...args, '--data-dir', dataDir]);
    await cli('resource', 'create', '--name', 'Calendar', '--identifier', RESOURCE, '--scope', 'calendar:read', '--scope', 'calendar:write');
    for (const auth of ['client_secret_basic', 'client_secret_post']) {
      apps[auth] = await cli('app', 'create', '--name', `Scheduler (${auth})`, '--kind', 'service', '--auth', auth, '--resource', RESOURCE, '--scope', 'calendar:read');
    }
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const cases: Array<[string, string, () => client.ClientAuth | undefined]> = [
    // discovery(issuer, id, secret) with no method: openid-client's default, which is client_secret_post.
    ['its defaults', 'client_secret_post', () => undefined],
    ['ClientSecretBasic()', 'client_secret_basic', () => client.ClientSecretBasic()],
    ['ClientSecretPost()', 'client_secret_post', () => client.ClientSecretPost()],
  ];

  it.each(cases)('with %s: discovery, client credentials, a JWKS-verified at+jwt, introspection, revocation', async (_name, registered, auth) => {
    const app = apps[registered]!;
    const issuer = serve.issuer;
    const config = await client.discovery(new URL(issuer), app.client_id, app.client_secret, auth(), { execute: [client.allowInsecureRequests] });
    expect(config.serverMetadata().issuer).toBe(issuer);
    expect(config.serverMetadata().token_endpoint).toBe(`${issuer}/oauth2/token`);

    const tokens = await client.clientCredentialsGrant(config, { resource: RESOURCE });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expiresIn()).toBeGreaterThan(0);
    expect(tokens.scope).toBe('calendar:read');

    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer, audience: RESOURCE, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ client_id: app.client_id, sub: `client:${app.client_id}`, scope: 'calendar:read' });

    const active = await client.tokenIntrospection(config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: app.client_id, scope: 'calendar:read', iss: issuer });
    expect([active.aud].flat()).toEqual([RESOURCE]);

    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
  });

  it('a wrong client secret is refused: 401 invalid_client with a Basic challenge (RFC 6749 §5.2)', async () => {
    const app = apps.client_secret_basic!;
    const config = await client.discovery(new URL(serve.issuer), app.client_id, 'not-the-secret', client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
    const refusal = await client.clientCredentialsGrant(config, { resource: RESOURCE }).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = refusal as client.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause.map((c) => c.scheme)).toEqual(['basic']);
    expect(await challenge.response.json()).toMatchObject({ error: 'invalid_client' });
  });
});
