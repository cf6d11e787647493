import { setupRequest } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import { jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** First-run setup (`latchkey setup`, the UI's first page): makes the owner, or updates the owner's profile. */
export function registerSetupRoutes({ api, deps, audited }: AdminScope): void {
  api.post('/setup', async (request, reply) => {
    const caller = request.adminCaller;
    const profile = parse(setupRequest, jsonBody(request));
    const result = audited('admin.setup', () => {
      const made = deps.users.setupOwner(profile);
      // The first-run session that made the owner is the owner's from now on.
      if (caller?.kind === 'session' && caller.session.userId === null) deps.sessions.bindToOwner(caller.session.idHash, made.user.id);
      return made;
    }, ({ user }) => ({ subject: user.id }));
    return sendJson(reply, { id: result.user.id, name: result.user.name, email: result.user.email, created: result.created }, result.created ? 201 : 200);
  });
}
