import { apiKeyQuery, type ApiKeyView, type CreatedApiKeyView } from '../../../../shared/admin-api.js';
import type { ApiKey } from '../../directory/api-keys.js';
import { sendJson } from '../../transport/http-app.js';
import { clientIdParams, idParams, parse, type AdminScope } from '../admin-scope.js';

/** API keys (`lk_sk_…`): made for an application, shown once, listed, revoked. */
export function registerApiKeyRoutes({ api, deps, audited, requireOwner }: AdminScope): void {
  api.get('/api-keys', async (request, reply) => sendJson(reply, deps.apiKeys.list(parse(apiKeyQuery, request.query).client_id).map(apiKeyView)));

  api.post('/applications/:clientId/api-keys', async (request, reply) => {
    requireOwner(request);
    const { clientId } = parse(clientIdParams, request.params);
    const created = audited('admin.api_key_created', () => deps.apiKeys.create(clientId), (key) => ({ clientId, detail: { api_key_id: key.id } }));
    const view: CreatedApiKeyView = { id: created.id, client_id: clientId, api_key: created.apiKey };
    return sendJson(reply, view, 201);
  });

  api.post('/api-keys/:id/revoke', async (request, reply) => {
    const { id } = parse(idParams, request.params);
    const revoked = audited('admin.api_key_revoked', () => deps.apiKeys.revoke(id), (key) => ({ clientId: key.clientId, detail: { api_key_id: id } }));
    return sendJson(reply, { id, client_id: revoked.clientId, revoked: true });
  });
}

function apiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    client_id: key.clientId,
    created_at: new Date(key.createdAt).toISOString(),
    revoked_at: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
  };
}
