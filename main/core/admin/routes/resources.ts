import { createResourceRequest, setResourceSecretRequest } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import { jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Resources: what tokens are for, and the secret a vaulted one holds (issue 5 item 3). */
export function registerResourceRoutes({ api, deps, audited }: AdminScope): void {
  api.get('/resources', async (_request, reply) => sendJson(reply, deps.resources.list().map((resource) => deps.resources.view(resource))));

  api.post('/resources', async (request, reply) => {
    const asked = parse(createResourceRequest, jsonBody(request));
    // A vaulted resource's secret is sealed in this transaction with the row and its audit row; the
    // response (the view) says only that there is one. The audit row names no secret.
    const resource = audited('admin.resource_created', () => deps.resources.create(asked),
      (created) => ({ resource: created.identifier, detail: { credential_type: created.credentialType, ...(created.providerId ? { provider_id: created.providerId, upstream_scopes: created.upstreamScopes } : {}) } }));
    return sendJson(reply, deps.resources.view(resource), 201);
  });

  // Rotation (issue 5 item 3): the new secret replaces the old in one transaction with its audit row.
  // The identifier travels in the body: a URI in a path segment would need escaping of its own.
  api.post('/resources/secret', async (request, reply) => {
    const { identifier, secret } = parse(setResourceSecretRequest, jsonBody(request));
    const resource = audited('admin.resource_secret_replaced', () => deps.resources.replaceSecret(identifier, secret), () => ({ resource: identifier }));
    return sendJson(reply, deps.resources.view(resource));
  });
}
