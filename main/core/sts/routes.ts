import type { FastifyInstance } from 'fastify';
import { requireBackChannelForm, sendJson, type Transport } from '../transport/http-app.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { serverMetadata } from './endpoints/discovery.js';
import type { IntrospectionEndpoint } from './endpoints/introspection.js';
import type { RevocationEndpoint } from './endpoints/revocation.js';
import type { TokenEndpoint } from './endpoints/token.js';
import type { IssuerUrls } from './issuer.js';

export interface OAuthRouteDeps {
  urls: () => IssuerUrls;
  token: TokenEndpoint;
  introspection: IntrospectionEndpoint;
  revocation: RevocationEndpoint;
  keys: SigningKeys;
  transport: Transport;
}

/** The protocol surface of DESIGN.md §3 that this build offers. No CORS anywhere: none is registered. */
export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): void {
  let metadata: { issuer: string; body: Record<string, unknown> } | undefined;
  const describe = () => {
    const urls = deps.urls();
    if (metadata?.issuer !== urls.issuer) metadata = { issuer: urls.issuer, body: serverMetadata(urls, deps.token.grantTypes) };
    return metadata.body;
  };

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => reply.header('cache-control', 'max-age=300').send(describe()));
  app.get('/.well-known/openid-configuration', async (_request, reply) => reply.header('cache-control', 'max-age=300').send(describe()));
  app.get('/.well-known/jwks.json', async (_request, reply) =>
    reply.header('cache-control', 'max-age=60').type('application/jwk-set+json').send(deps.keys.jwks()));

  app.post('/oauth2/token', async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    const body = await deps.token.handle({ params, authorization: request.headers.authorization, transport: deps.transport });
    return sendJson(reply, body);
  });

  app.post('/oauth2/token/introspect', async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    return sendJson(reply, await deps.introspection.handle(params, request.headers.authorization));
  });

  app.post('/oauth2/token/revoke', async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    await deps.revocation.handle(params, request.headers.authorization);
    return sendJson(reply, {});
  });
}
