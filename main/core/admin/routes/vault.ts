import { unlockVaultRequest } from '../../../../shared/admin-api.js';
import { InvalidRequest } from '../../oauth/errors.js';
import { sendJson } from '../../transport/http-app.js';
import type { AdminScope } from '../admin-scope.js';

/** The vault: its state, unlocking (with a passphrase, or from the keychain), locking. */
export function registerVaultRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/vault', async (_request, reply) => sendJson(reply, deps.vault.status()));
  api.post('/vault/unlock', async (request, reply) => {
    requireOwner(request);
    const parsed = unlockVaultRequest.safeParse(request.body ?? {});
    // The one description whatever was wrong: a passphrase's problem is not echoed.
    if (!parsed.success) throw new InvalidRequest('passphrase is required');
    return sendJson(reply, await deps.vault.unlockWith(parsed.data.passphrase));
  });
  api.post('/vault/lock', async (_request, reply) => sendJson(reply, deps.vault.lock('the admin')));
}
