import { apiKeyQuery } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, idParams, parse, type AdminScope } from '../admin-scope.js';

/** API keys (`lk_sk_…`): made for an application, shown once, listed, revoked. */
export function registerApiKeyRoutes({ api, deps, audited }: AdminScope): void {
  api.get('/api-keys', async (request, reply) => sendJson(reply, deps.apiKeys.list(parse(apiKeyQuery, request.query).client_id)));

  api.post('/applications/:clientId/api-keys', async (request, reply) => {
    const { clientId } = parse(clientIdParams, request.params);
    const created = audited('admin.api_key_created', () => deps.apiKeys.create(clientId), (key) => ({ clientId, detail: { api_key_id: key.id } }));
    return sendJson(reply, { id: created.id, client_id: clientId, api_key: created.apiKey }, 201);
  });

  api.post('/api-keys/:id/revoke', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    const revoked = audited('admin.api_key_revoked', () => deps.apiKeys.revoke(id), (key) => ({ clientId: key.client_id, detail: { api_key_id: id } }));
    return sendJson(reply, { id, client_id: revoked.client_id, revoked: true });
  });
}
