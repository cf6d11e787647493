import { sendJson } from '../../transport/http-app.js';
import type { AdminScope } from '../admin-scope.js';

/** The signing keys: their public facts, and rotation. */
export function registerKeyRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/keys', async (_request, reply) => sendJson(reply, deps.listKeys()));
  api.post('/keys/rotate', async (request, reply) => {
    requireOwner(request);
    return sendJson(reply, await deps.rotateKeys());
  });
}
