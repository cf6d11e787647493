import type { z } from 'zod';
import { createProviderRequest, type ProviderView } from '../../../../shared/admin-api.js';
import type { ProviderStatus } from '../../brokered/provider-admin.js';
import type { NewProvider } from '../../brokered/providers.js';
import { sendJson } from '../../transport/http-app.js';
import { idParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/**
 * Providers (issue 5 item 4): the client secret goes into the vault and is never shown again; connect answers
 * the URL the owner opens; disconnect revokes upstream where offered; a provider in use cannot be deleted.
 */
export function registerProviderRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/providers', async (_request, reply) => sendJson(reply, deps.providers.list().map(providerView)));

  api.post('/providers', async (request, reply) => {
    requireOwner(request);
    const provider = newProvider(parse(createProviderRequest, jsonBody(request)));
    return sendJson(reply, providerView(deps.providers.create(provider)), 201);
  });

  api.post('/providers/:id/connect', async (request, reply) => {
    requireOwner(request);
    const authorizationUrl = await deps.providers.connect(parse(idParams, request.params).id);
    return sendJson(reply, { authorization_url: authorizationUrl });
  });

  api.post('/providers/:id/disconnect', async (request, reply) => sendJson(reply, providerView(await deps.providers.disconnect(parse(idParams, request.params).id))));

  api.delete('/providers/:id', async (request, reply) => {
    const deleted = await deps.providers.delete(parse(idParams, request.params).id);
    return sendJson(reply, { id: deleted.id, deleted: true });
  });
}

function newProvider(request: z.output<typeof createProviderRequest>): NewProvider {
  const { endpoints } = request;
  return {
    name: request.name,
    issuer: request.issuer,
    endpoints: endpoints && { authorizationEndpoint: endpoints.authorization_endpoint, tokenEndpoint: endpoints.token_endpoint, revocationEndpoint: endpoints.revocation_endpoint },
    clientId: request.client_id,
    clientSecret: request.client_secret,
    scopes: request.scopes,
  };
}

/** What the owner sees of a provider: never a secret or a token, only that a client secret is sealed. */
function providerView({ provider, account, hasClientSecret }: ProviderStatus): ProviderView {
  return {
    id: provider.id,
    name: provider.name,
    issuer: provider.issuer,
    client_id: provider.clientId,
    has_client_secret: hasClientSecret,
    scopes: provider.scopes,
    status: account === null ? 'not_connected' : account.status,
    attention: account?.status === 'needs_attention' ? account.attention : null,
    connected_at: account ? new Date(account.connectedAt).toISOString() : null,
    created_at: new Date(provider.createdAt).toISOString(),
  };
}
