import type { z } from 'zod';
import { createResourceRequest, setResourceSecretRequest, type ResourceView } from '../../../../shared/admin-api.js';
import type { NewResource, Resource, Resources } from '../../directory/resources.js';
import { sendJson } from '../../transport/http-app.js';
import { jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** Resources: what tokens are for, and the secret a vaulted one holds (issue 5 item 3). */
export function registerResourceRoutes({ api, deps, audited, requireOwner }: AdminScope): void {
  const view = (resource: Resource) => resourceView(resource, deps.resources);

  api.get('/resources', async (_request, reply) => sendJson(reply, deps.resources.list().map(view)));

  api.post('/resources', async (request, reply) => {
    requireOwner(request);
    const asked = newResource(parse(createResourceRequest, jsonBody(request)));
    // A vaulted resource's secret is sealed in this transaction with the row and its audit row; the
    // response (the view) says only that there is one. The audit row names no secret.
    const resource = audited('admin.resource_created', () => deps.resources.create(asked),
      (created) => ({ resource: created.identifier, detail: { credential_type: created.credentialType, ...(created.providerId ? { provider_id: created.providerId, upstream_scopes: created.upstreamScopes } : {}) } }));
    return sendJson(reply, view(resource), 201);
  });

  // Rotation (issue 5 item 3): the new secret replaces the old in one transaction with its audit row.
  // The identifier travels in the body: a URI in a path segment would need escaping of its own.
  api.post('/resources/secret', async (request, reply) => {
    requireOwner(request);
    const { identifier, secret } = parse(setResourceSecretRequest, jsonBody(request));
    const resource = audited('admin.resource_secret_replaced', () => deps.resources.replaceSecret(identifier, secret), () => ({ resource: identifier }));
    return sendJson(reply, view(resource));
  });
}

function newResource(request: z.output<typeof createResourceRequest>): NewResource {
  return {
    identifier: request.identifier,
    name: request.name,
    scopes: request.scopes,
    credentialType: request.credential_type,
    tokenLifetime: request.token_lifetime,
    servedBy: request.served_by,
    secret: request.secret,
    providerId: request.provider_id,
    upstreamScopes: request.upstream_scopes,
  };
}

function resourceView(resource: Resource, resources: Resources): ResourceView {
  return {
    identifier: resource.identifier,
    name: resource.name,
    scopes: resource.scopes,
    credential_type: resource.credentialType,
    token_lifetime: resource.tokenLifetime,
    served_by: resource.servedBy,
    created_at: new Date(resource.createdAt).toISOString(),
    provider_id: resource.providerId,
    upstream_scopes: resource.upstreamScopes,
    // A vaulted resource's view says that there is a secret and when it was set, never what it is.
    ...(resource.credentialType === 'vaulted' ? secretView(resources.secretSetAt(resource.identifier)) : {}),
  };
}

function secretView(setAt: number | null): { has_secret: boolean; secret_set_at: string | null } {
  return { has_secret: setAt !== null, secret_set_at: setAt === null ? null : new Date(setAt).toISOString() };
}
