import { consentQuery, grantConsentRequest } from '../../../../shared/admin-api.js';
import type { Consent } from '../../consent/consents.js';
import { DirectoryError } from '../../directory/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, idParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Consents (issue 3 item 9): what applications may do for users; listed, granted for background access, withdrawn. */
export function registerConsentRoutes({ api, deps }: AdminScope): void {
  const consentView = (consent: Consent) => deps.consents.view(consent, deps.applications.get(consent.clientId));

  api.get('/consents', async (request, reply) => {
    const { client_id, user_id, include_revoked } = parse(consentQuery, request.query);
    return sendJson(reply, deps.consents.list({ clientId: client_id, userId: user_id, includeRevoked: include_revoked === 'true' }).map(consentView));
  });

  // The user's background-access grant (issue 4 item 2d); interactive consent is given on the consent page.
  api.post('/consents', async (request, reply) => {
    const granted = deps.grantBackgroundAccess(parse(grantConsentRequest, jsonBody(request)));
    return sendJson(reply, consentView(granted.consent), granted.created ? 201 : 200);
  });

  api.post('/consents/:id/revoke', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    if (!deps.consents.get(id)) throw new DirectoryError('unknown consent', 404);
    const withdrawn = deps.withdrawConsent(id, 'withdrawn by the admin');
    return sendJson(reply, { ...consentView(withdrawn ?? deps.consents.get(id)!), withdrawn: withdrawn !== null });
  });

  // Everything an application may do for the users: withdrawn at once.
  api.post('/applications/:clientId/consents/revoke', async (request, reply) => {
    const { clientId } = parse(clientIdParams, request.params);
    if (!deps.applications.get(clientId)) throw new DirectoryError('unknown application', 404);
    const withdrawn = deps.consents.list({ clientId }).map((consent) => deps.withdrawConsent(consent.id, 'withdrawn by the admin')).filter((consent): consent is Consent => consent !== null);
    return sendJson(reply, withdrawn.map(consentView));
  });
}
