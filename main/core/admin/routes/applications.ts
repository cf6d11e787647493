import { createApplicationRequest, updateApplicationRequest } from '../../../../shared/admin-api.js';
import { DirectoryError } from '../../directory/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Applications (OAuth clients): registration, changes, the switch, deletion. */
export function registerApplicationRoutes({ api, deps, audited }: AdminScope): void {
  api.get('/applications', async (_request, reply) => sendJson(reply, deps.applications.list().map((application) => deps.applications.view(application))));

  api.get('/applications/:clientId', async (request, reply) => {
    const application = deps.applications.get(parse(clientIdParams, request.params).clientId);
    if (!application) throw new DirectoryError('unknown application', 404);
    return sendJson(reply, deps.applications.view(application));
  });

  api.post('/applications', async (request, reply) => {
    const asked = parse(createApplicationRequest, jsonBody(request));
    const created = audited('admin.application_created', () => deps.applications.create(asked),
      ({ application }) => ({ clientId: application.clientId, detail: { name: application.name, auth_method: application.authMethod, grant_types: application.grantTypes } }));
    // The secret is in this one response and nowhere else, ever.
    return sendJson(reply, { ...deps.applications.view(created.application), ...(created.clientSecret ? { client_secret: created.clientSecret } : {}) }, 201);
  });

  // Changes what app create set (issue 4 item 2): one audit row saying what changed, and the permission to
  // impersonate, when it changes, a row of its own (once policies exist, this writes the permitting policy).
  api.patch('/applications/:clientId', async (request, reply) => {
    const { clientId } = parse(clientIdParams, request.params);
    const body = jsonBody(request);
    // An unknown application is a 404 whatever the body says.
    if (!deps.applications.get(clientId)) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    const change = parse(updateApplicationRequest, body);
    const updated = deps.transaction(() => {
      const result = deps.applications.update(clientId, change);
      // A removed dependency's live tokens end with it, in this transaction (dependency-removal.ts).
      const revoked = deps.endAccessToRemovedResources(clientId, result.changes.resources_removed ?? []);
      deps.audit.append({ event: 'admin.application_updated', decision: 'info', reason: 'admin change', clientId,
        detail: { changes: result.changes, ...(result.changes.resources_removed ? { access_tokens_revoked: revoked } : {}) } });
      const impersonation = result.changes.allow_impersonation;
      if (impersonation) {
        deps.audit.append({ event: impersonation.to ? 'admin.impersonation_allowed' : 'admin.impersonation_denied', decision: 'info', reason: 'admin change', clientId,
          detail: { allow_impersonation: impersonation.to, consent_mode: result.application.consentMode } });
        // Impersonation needs a policy permit (issue 5 item 1): allowing it writes that policy, denying removes it.
        deps.policies.setImpersonationPermit(clientId, impersonation.to);
      }
      return result;
    });
    if (updated.changes.allow_impersonation) deps.policies.reload();
    return sendJson(reply, { ...deps.applications.view(updated.application), changes: updated.changes });
  });

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    api.post(`/applications/:clientId/${action}`, async (request, reply) => {
      const { clientId } = parse(clientIdParams, request.params);
      const application = audited(`admin.application_${action}d`, () => deps.applications.setEnabled(clientId, enabled), () => ({ clientId }));
      return sendJson(reply, deps.applications.view(application));
    });
  }

  // Deleting ends what the application was given (consents, token families, live access tokens) and
  // removes it; the audit log keeps its history. A dynamically registered client is deleted the same way.
  api.delete('/applications/:clientId', async (request, reply) => {
    const deleted = deps.deleteApplication(parse(clientIdParams, request.params).clientId);
    return sendJson(reply, { client_id: deleted.clientId, name: deleted.name, registration: deleted.registration, deleted: true,
      consents_withdrawn: deleted.consents, access_tokens_revoked: deleted.accessTokens });
  });
}
