import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import { refuseForeignOrigin, requireBackChannelForm, sendJson, type Transport } from '../transport/http-app.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { serverMetadata } from './endpoints/discovery.js';
import type { IntrospectionEndpoint } from './endpoints/introspection.js';
import type { RevocationEndpoint } from './endpoints/revocation.js';
import type { TokenEndpoint } from './endpoints/token.js';
import { OAuthError } from './errors.js';
import type { IssuerUrls } from './issuer.js';

export interface OAuthRouteDeps {
  urls: () => IssuerUrls;
  token: TokenEndpoint;
  introspection: IntrospectionEndpoint;
  revocation: RevocationEndpoint;
  keys: SigningKeys;
  audit: AuditLog;
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

  // The endpoints audit their own refusals; what the perimeter refuses first (a foreign Host or Origin, a
  // body that is too large, not a form, or a query string) is audited here: every refusal is recorded (DESIGN.md §2).
  const handedOver = new WeakSet<FastifyRequest>();
  const backChannel = (event: string) => ({
    onRequest: async (request: FastifyRequest) => refuseForeignOrigin(request, deps.urls().issuer),
    onError: async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError | OAuthError) => {
      if (!handedOver.has(request)) recordPerimeterRefusal(deps.audit, event, request, error);
    },
  });

  app.post('/oauth2/token', backChannel('token.refused'), async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    handedOver.add(request);
    const body = await deps.token.handle({ params, authorization: request.headers.authorization, transport: deps.transport });
    return sendJson(reply, body);
  });

  app.post('/oauth2/token/introspect', backChannel('token.introspection_refused'), async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    handedOver.add(request);
    return sendJson(reply, await deps.introspection.handle(params, request.headers.authorization));
  });

  app.post('/oauth2/token/revoke', backChannel('token.revocation_refused'), async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    handedOver.add(request);
    await deps.revocation.handle(params, request.headers.authorization);
    return sendJson(reply, {});
  });
}

function recordPerimeterRefusal(audit: AuditLog, event: string, request: FastifyRequest, error: FastifyError | OAuthError): void {
  const why = error instanceof OAuthError ? `${error.error}: ${error.reason ?? error.description ?? ''}` : `invalid_request: ${error.code ?? 'malformed request'}`;
  try {
    audit.record({
      event,
      decision: 'deny',
      // The claimed client id, as claimed; an identifier, not a secret. Nothing else from the request.
      clientId: request.form?.get('client_id')?.slice(0, 200) ?? null,
      reason: `perimeter: ${why}`.slice(0, 500),
    });
  } catch {
    // The refusal stands whether or not it could be recorded.
  }
}
