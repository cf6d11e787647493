import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refusalReason, type RefusalRecorder } from '../audit/refusals.js';
import { refuseForeignOrigin, requireBackChannelForm, sendJson } from '../transport/http-app.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { pageHeaders } from '../consent/consent-page.js';
import type { UiSessions } from '../consent/ui-sessions.js';
import type { AuthorizationEndpoint, AuthorizationOutcome } from './endpoints/authorize.js';
import type { BackchannelAuthenticationEndpoint } from './endpoints/backchannel-authentication.js';
import { serverMetadata } from './endpoints/discovery.js';
import type { UserInfoEndpoint } from './endpoints/userinfo.js';
import type { IntrospectionEndpoint } from './endpoints/introspection.js';
import type { RegistrationEndpoint } from './endpoints/registration.js';
import type { RevocationEndpoint } from './endpoints/revocation.js';
import type { TokenEndpoint } from './endpoints/token.js';
import { InvalidRequest, OAuthError } from '../oauth/errors.js';
import type { IssuerUrls } from './issuer.js';
import { Params } from '../oauth/params.js';

export interface OAuthRouteDeps {
  urls: () => IssuerUrls;
  token: TokenEndpoint;
  introspection: IntrospectionEndpoint;
  revocation: RevocationEndpoint;
  authorization: AuthorizationEndpoint;
  userinfo: UserInfoEndpoint;
  registration: RegistrationEndpoint;
  backchannel: BackchannelAuthenticationEndpoint;
  sessions: UiSessions;
  keys: SigningKeys;
  refusals: RefusalRecorder;
}

/** Client metadata is a few hundred bytes; 16 KiB leaves room for ten long redirect URIs and nothing much else. */
export const REGISTRATION_BODY_LIMIT_BYTES = 16 * 1024;

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
      if (!handedOver.has(request)) recordPerimeterRefusal(deps.refusals, event, request, error);
    },
  });

  app.post('/oauth2/token', backChannel('token.refused'), async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    handedOver.add(request);
    const body = await deps.token.handle({ params, authorization: request.headers.authorization, transport: request.transport });
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

  // OpenID CIBA (poll mode): a back channel like the token endpoint, answered with an auth_req_id.
  app.post('/oauth2/bc-authorize', backChannel('approval.refused'), async (request, reply) => {
    const params = requireBackChannelForm(request, deps.urls().issuer);
    handedOver.add(request);
    return sendJson(reply, await deps.backchannel.handle(params, request.headers.authorization));
  });

  // Dynamic client registration (RFC 7591 §3): JSON in, JSON out. A back channel like the token endpoint:
  // a web page must not register clients, so a foreign Origin is refused; then the rate limit, both before
  // the body is read; a small body limit (metadata is a few hundred bytes).
  app.post('/oauth2/register', {
    bodyLimit: REGISTRATION_BODY_LIMIT_BYTES,
    onRequest: async (request: FastifyRequest) => {
      refuseForeignOrigin(request, deps.urls().issuer);
      deps.registration.admit();
    },
    onError: async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError | OAuthError) => {
      if (!handedOver.has(request)) recordPerimeterRefusal(deps.refusals, 'client.registration_refused', request, error);
    },
  }, async (request, reply) => {
    if (request.url.includes('?')) throw new InvalidRequest('client metadata goes in the JSON body, not the query string');
    const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') throw new OAuthError('invalid_request', 415, 'the request body must be application/json (RFC 7591 §3.1)');
    handedOver.add(request);
    return sendJson(reply, deps.registration.register(request.body), 201);
  });

  // The front channel: a browser drives it. GET shows the sign-in or consent page or redirects to the client.
  app.get('/oauth2/authorize', async (request, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const outcome = deps.authorization.request(Params.parse(query), deps.sessions.fromCookieHeader(request.headers.cookie));
    return sendOutcome(reply, outcome);
  });

  // The consent decision. A foreign Origin (another site posting the form) is refused before anything
  // else; the CSRF token bound to the transaction and session does the rest (issue 3 item 2).
  app.post('/oauth2/authorize', {
    onRequest: async (request: FastifyRequest) => refuseForeignOrigin(request, deps.urls().issuer),
    onError: async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError | OAuthError) => {
      if (!handedOver.has(request)) recordPerimeterRefusal(deps.refusals, 'authorization.refused', request, error);
    },
  }, async (request, reply) => {
    const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    handedOver.add(request);
    const form = contentType === 'application/x-www-form-urlencoded' && request.form && !request.url.includes('?') ? request.form : null;
    return sendOutcome(reply, await deps.authorization.decide(form, deps.sessions.fromCookieHeader(request.headers.cookie)));
  });

  // OIDC Core §5.3.1: GET and POST, the access token in the Authorization header (RFC 6750 §2.1).
  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const tokenElsewhere = /[?&]access_token=/.test(request.url) || request.form?.has('access_token') === true;
    return sendJson(reply, await deps.userinfo.handle(request.headers.authorization, tokenElsewhere));
  };
  app.get('/oauth2/userinfo', userinfo);
  app.post('/oauth2/userinfo', userinfo);
}

/** A page (consent, sign-in, error) with the headers of issue 3 item 2, or a 303 to the client. */
function sendOutcome(reply: FastifyReply, outcome: AuthorizationOutcome): FastifyReply {
  if (outcome.kind === 'redirect') return reply.code(303).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).header('location', outcome.location).send();
  return reply.code(outcome.status).headers(pageHeaders(outcome.formAction)).type('text/html; charset=utf-8').send(outcome.html);
}

function recordPerimeterRefusal(refusals: RefusalRecorder, event: string, request: FastifyRequest, error: FastifyError | OAuthError): void {
  const why = error instanceof OAuthError ? refusalReason(error) : `invalid_request: ${error.code ?? 'malformed request'}`;
  // The claimed client id, as claimed; nothing else from the request.
  refusals.record({ event, clientId: request.form?.get('client_id') }, `perimeter: ${why}`);
}
