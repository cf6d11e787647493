import type { z } from 'zod';
import { consentQuery, grantConsentRequest, type ConsentView } from '../../../../shared/admin-api.js';
import type { BackgroundGrant } from '../../consent/background-access.js';
import type { Consent } from '../../consent/consents.js';
import type { Application } from '../../directory/applications.js';
import { DirectoryError } from '../../directory/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, idParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Consents (issue 3 item 9): what applications may do for users; listed, granted for background access, withdrawn. */
export function registerConsentRoutes({ api, deps, requireOwner }: AdminScope): void {
  const view = (consent: Consent) => consentView(consent, deps.applications.get(consent.clientId));

  api.get('/consents', async (request, reply) => {
    const { client_id, user_id, include_revoked } = parse(consentQuery, request.query);
    return sendJson(reply, deps.consents.list({ clientId: client_id, userId: user_id, includeRevoked: include_revoked === 'true' }).map(view));
  });

  // The user's background-access grant (issue 4 item 2d); interactive consent is given on the consent page.
  api.post('/consents', async (request, reply) => {
    requireOwner(request);
    const granted = deps.grantBackgroundAccess(backgroundGrant(parse(grantConsentRequest, jsonBody(request))));
    return sendJson(reply, view(granted.consent), granted.created ? 201 : 200);
  });

  api.post('/consents/:id/revoke', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    if (!deps.consents.get(id)) throw new DirectoryError('unknown consent', 404);
    const withdrawn = deps.withdrawConsent(id, 'withdrawn by the admin');
    return sendJson(reply, { ...view(withdrawn ?? deps.consents.get(id)!), withdrawn: withdrawn !== null });
  });

  // Everything an application may do for the users: withdrawn at once.
  api.post('/applications/:clientId/consents/revoke', async (request, reply) => {
    const { clientId } = parse(clientIdParams, request.params);
    if (!deps.applications.get(clientId)) throw new DirectoryError('unknown application', 404);
    const withdrawn = deps.consents.list({ clientId }).map((consent) => deps.withdrawConsent(consent.id, 'withdrawn by the admin')).filter((consent): consent is Consent => consent !== null);
    return sendJson(reply, withdrawn.map(view));
  });
}

function backgroundGrant(request: z.output<typeof grantConsentRequest>): BackgroundGrant {
  return { clientId: request.client_id, userId: request.user_id, resources: request.resources, scopes: request.scopes };
}

/** A consent, with the name and registration of its application (null once the application is gone). */
function consentView(consent: Consent, application: Pick<Application, 'name' | 'registration'> | null): ConsentView {
  return {
    id: consent.id,
    user_id: consent.userId,
    client_id: consent.clientId,
    application: application?.name ?? null,
    registration: application?.registration ?? null,
    resources: consent.resources,
    scopes: consent.scopes,
    remembered: consent.remembered,
    remembered_until: consent.rememberedUntil === null ? null : new Date(consent.rememberedUntil).toISOString(),
    background: consent.background,
    created_at: new Date(consent.createdAt).toISOString(),
    revoked_at: consent.revokedAt === null ? null : new Date(consent.revokedAt).toISOString(),
  };
}
