// The comparison peer, run as a child process by the bench: oidc-provider (the certified OpenID provider
// for Node) issuing ES256 JWT access tokens (RFC 9068) for client_credentials with a resource indicator
// (RFC 8707), at the same path as Latchkey's token endpoint. It persists nothing for a JWT access
// token (its default in-memory adapter is not even called), where Latchkey commits a token record and a
// hash-chained audit row to SQLite with synchronous=FULL before it answers.
//
// Reads BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_RESOURCE, BENCH_SCOPES; prints one JSON line with
// its issuer once it listens on 127.0.0.1:0.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

/** What the bench uses of oidc-provider, which ships no TypeScript types. */
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
};

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const clientId = env('BENCH_CLIENT_ID');
const clientSecret = env('BENCH_CLIENT_SECRET');
const resource = env('BENCH_RESOURCE');
const scopes = env('BENCH_SCOPES');
/** Latchkey's default access-token lifetime, so both mint the same `exp` distance. */
const ACCESS_TOKEN_TTL_SECONDS = 600;

// A variable specifier keeps the untyped package out of the type checker; the shape is declared above.
const packageName = 'oidc-provider';
const { default: Provider } = (await import(packageName)) as { default: ProviderConstructor };

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('base64url'), alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: scopes,
  }],
  jwks: { keys: [signingKey] },
  // ES256 everywhere, so the provider needs no RSA key it would never use here.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: scopes.split(' '),
  routes: { token: '/oauth2/token', jwks: '/.well-known/jwks.json' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx: unknown, indicator: string) => {
        if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
        return {
          scope: scopes,
          audience: resource,
          accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer, pid: process.pid })}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
