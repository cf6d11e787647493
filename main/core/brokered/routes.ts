import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RefusalRecorder } from '../audit/refusals.js';
import { pageHeaders, renderErrorPage, renderMessagePage } from '../consent/consent-page.js';
import type { UiSessions } from '../consent/ui-sessions.js';
import type { AuthorizationEndpoint, AuthorizationOutcome } from '../sts/endpoints/authorize.js';
import { OAuthError } from '../oauth/errors.js';
import { refuseForeignOrigin } from '../transport/http-app.js';
import { CALLBACK_PATH, type CallbackOutcome, type ProviderConnections } from './provider-connections.js';
import type { Providers } from './providers.js';

export interface BrokeredRouteDeps {
  issuer: () => string;
  connections: ProviderConnections;
  providers: Providers;
  authorization: AuthorizationEndpoint;
  sessions: UiSessions;
  refusals: RefusalRecorder;
}

/**
 * The browser's side of connecting an upstream account (issue 5 item 4): the provider's callback, and the
 * consent page's offer to connect. Both answer pages (escaped, no script, never framed) or 303s.
 */
export function registerBrokeredRoutes(app: FastifyInstance, deps: BrokeredRouteDeps): void {
  app.get(CALLBACK_PATH, async (request, reply) => {
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    return sendCallback(reply, await deps.connections.complete(query, deps.sessions.fromCookieHeader(request.headers.cookie)));
  });

  // From the consent page: its transaction and CSRF token are checked (not spent); a foreign Origin is refused first.
  app.post('/oauth2/providers/connect', {
    onRequest: async (request: FastifyRequest) => refuseForeignOrigin(request, deps.issuer()),
  }, async (request, reply) => {
    const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const form = contentType === 'application/x-www-form-urlencoded' && request.form && !request.url.includes('?') ? request.form : null;
    const checked = deps.authorization.connectFromConsent(form, deps.sessions.fromCookieHeader(request.headers.cookie));
    if ('kind' in checked) return sendPage(reply, checked);
    const provider = deps.providers.get(checked.providerId);
    if (!provider) return sendPage(reply, { kind: 'page', status: 400, html: renderErrorPage('Unknown provider', 'The provider was removed meanwhile.') });
    let url: string;
    try {
      url = await deps.connections.start(provider, { userId: checked.userId, session: checked.session, returnTo: checked.returnTo, via: 'consent page' });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      deps.refusals.record({ event: 'provider.connect_refused', subject: checked.userId, detail: { provider_id: provider.id } }, error);
      return sendPage(reply, { kind: 'page', status: error.status, html: renderErrorPage('Not connected', error.message) });
    }
    return reply.code(303).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).header('location', url).send();
  });
}

function sendCallback(reply: FastifyReply, outcome: CallbackOutcome): FastifyReply {
  if (outcome.kind === 'redirect') return sendPage(reply, outcome);
  return sendPage(reply, { kind: 'page', status: outcome.status, html: renderMessagePage(outcome.title, outcome.message) });
}

function sendPage(reply: FastifyReply, outcome: AuthorizationOutcome): FastifyReply {
  if (outcome.kind === 'redirect') return reply.code(303).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).header('location', outcome.location).send();
  return reply.code(outcome.status).headers(pageHeaders(outcome.formAction)).type('text/html; charset=utf-8').send(outcome.html);
}
