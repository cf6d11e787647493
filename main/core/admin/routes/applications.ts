import type { z } from 'zod';
import { createApplicationRequest, updateApplicationRequest, type ApplicationView } from '../../../../shared/admin-api.js';
import type { Application, ApplicationUpdate, Applications, NewApplication } from '../../directory/applications.js';
import { updateApplication } from '../../directory/application-update.js';
import { DirectoryError } from '../../directory/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Applications (OAuth clients): registration, changes, the switch, deletion. */
export function registerApplicationRoutes({ api, deps, audited, requireOwner }: AdminScope): void {
  const view = (application: Application) => applicationView(application, deps.applications);

  api.get('/applications', async (_request, reply) => sendJson(reply, deps.applications.list().map(view)));

  api.get('/applications/:clientId', async (request, reply) => {
    const application = deps.applications.get(parse(clientIdParams, request.params).clientId);
    if (!application) throw new DirectoryError('unknown application', 404);
    return sendJson(reply, view(application));
  });

  api.post('/applications', async (request, reply) => {
    requireOwner(request);
    const application = newApplication(parse(createApplicationRequest, jsonBody(request)));
    const created = audited('admin.application_created', () => deps.applications.create(application),
      (made) => ({ clientId: made.application.clientId, detail: { name: made.application.name, auth_method: made.application.authMethod, grant_types: made.application.grantTypes } }));
    // The secret is in this one response and nowhere else, ever.
    return sendJson(reply, { ...view(created.application), ...(created.clientSecret ? { client_secret: created.clientSecret } : {}) }, 201);
  });

  api.patch('/applications/:clientId', async (request, reply) => {
    const { clientId } = parse(clientIdParams, request.params);
    const body = jsonBody(request);
    // An unknown application is a 404 whatever the body says.
    const current = deps.applications.get(clientId);
    if (!current) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    const update = applicationUpdate(parse(updateApplicationRequest, body));
    if (widens(update, current)) requireOwner(request);
    const updated = updateApplication({ ...deps, permits: deps.policies }, clientId, update);
    return sendJson(reply, { ...view(updated.application), changes: updated.changes });
  });

  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
    api.post(`/applications/:clientId/${action}`, async (request, reply) => {
      const { clientId } = parse(clientIdParams, request.params);
      if (enabled) requireOwner(request);
      const application = audited(`admin.application_${action}d`, () => deps.applications.setEnabled(clientId, enabled), () => ({ clientId }));
      return sendJson(reply, view(application));
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

function newApplication(request: z.output<typeof createApplicationRequest>): NewApplication {
  return {
    name: request.name,
    identityType: request.identity_type,
    subType: request.sub_type,
    authMethod: request.auth_method,
    jwks: request.jwks,
    grantTypes: request.grant_types,
    resources: request.resources,
    scopes: request.scopes,
    redirectUris: request.redirect_uris,
    consentMode: request.consent_mode,
    maxDelegationDepth: request.max_delegation_depth,
    idTokenAlg: request.id_token_signed_response_alg,
  };
}

function applicationUpdate(request: z.output<typeof updateApplicationRequest>): ApplicationUpdate {
  return {
    addResources: request.add_resources,
    removeResources: request.remove_resources,
    addGrantTypes: request.add_grant_types,
    removeGrantTypes: request.remove_grant_types,
    scopes: request.scopes,
    consentMode: request.consent_mode,
    allowImpersonation: request.allow_impersonation,
  };
}

function applicationView(app: Application, applications: Applications): ApplicationView {
  return {
    client_id: app.clientId,
    name: app.name,
    identity_type: app.identityType,
    sub_type: app.subType,
    client_type: app.clientType,
    auth_method: app.authMethod,
    grant_types: app.grantTypes,
    scopes: app.scopes,
    resources: [...applications.dependencies(app.clientId)],
    redirect_uris: app.redirectUris,
    consent_mode: app.consentMode,
    registration: app.registration,
    max_delegation_depth: app.maxDelegationDepth,
    id_token_signed_response_alg: app.idTokenAlg,
    allow_impersonation: app.allowImpersonation,
    enabled: app.enabled,
    has_jwks: app.jwks !== null,
    created_at: new Date(app.createdAt).toISOString(),
  };
}

/**
 * Whether a change gives the application more than it has (issue 12 §1: that needs the owner): a resource or a
 * grant type added, implicit consent, impersonation allowed, or scopes beyond its current ones. Removing,
 * narrowing and explicit consent are tightening, free with the admin token.
 */
function widens(update: ApplicationUpdate, current: Application): boolean {
  if (update.addResources?.length || update.addGrantTypes?.length) return true;
  if (update.consentMode === 'implicit' && current.consentMode !== 'implicit') return true;
  if (update.allowImpersonation === true) return true;
  if (update.scopes === undefined) return false;
  // null: any scope of its resources.
  if (update.scopes === null) return current.scopes !== null;
  return current.scopes !== null && update.scopes.some((scope) => !current.scopes!.includes(scope));
}
