import { createProviderRequest } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import { idParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/**
 * Providers (issue 5 item 4): the client secret goes into the vault and is never shown again; connect answers
 * the URL the owner opens; disconnect revokes upstream where offered; a provider in use cannot be deleted.
 */
export function registerProviderRoutes({ api, deps }: AdminScope): void {
  api.get('/providers', async (_request, reply) => sendJson(reply, deps.providers.list()));
  api.post('/providers', async (request, reply) => sendJson(reply, deps.providers.create(parse(createProviderRequest, jsonBody(request))), 201));
  api.post('/providers/:id/connect', async (request, reply) => sendJson(reply, await deps.providers.connect(parse(idParams, request.params).id)));
  api.post('/providers/:id/disconnect', async (request, reply) => sendJson(reply, await deps.providers.disconnect(parse(idParams, request.params).id)));
  api.delete('/providers/:id', async (request, reply) => sendJson(reply, await deps.providers.delete(parse(idParams, request.params).id)));
}
