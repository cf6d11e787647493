import type { StatusView } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import type { AdminScope } from '../admin-scope.js';
import { ownerView } from './session.js';

/** `GET /api/status`: the issuer, the vault, the owner, the brakes, and where this broker runs. */
export function registerStatusRoutes({ api, deps }: AdminScope): void {
  api.get('/status', async (_request, reply) => {
    const { dataDir, port, socket } = deps.runtime();
    const status: StatusView = { issuer: deps.issuer(), vault: deps.vault.status(), owner: ownerView(deps.users), agents_paused: deps.agentPause.paused, data_dir: dataDir, port, socket };
    return sendJson(reply, status);
  });
}
