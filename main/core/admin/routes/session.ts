import type { SessionView } from '../../../../shared/admin-api.js';
import type { Users } from '../../directory/users.js';
import { UiSessions } from '../../consent/ui-sessions.js';
import { InvalidRequest } from '../../oauth/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { Unauthorized } from '../admin-sessions.js';
import type { AdminScope } from '../admin-scope.js';

/**
 * The UI's session (issue 6 item 2): who is signed in, and the CSRF token its changes must carry. The
 * desktop app's UI has no cookie: its shell forwards /api/* with the admin token (app-protocol.ts), so a
 * Bearer caller is answered with the owner and no CSRF token (a Bearer request cannot come from a web
 * page: browsers never attach that header on their own).
 */
export function registerSessionRoutes({ api, deps }: AdminScope): void {
  api.get('/session', async (request, reply) => {
    const caller = request.adminCaller;
    if (caller?.kind === 'token') {
      const view: SessionView = { user: ownerView(deps.users), csrf_token: null, started_at: null };
      return sendJson(reply, view);
    }
    if (caller?.kind !== 'session') throw new Unauthorized();
    // A first-run session has no user until it makes the owner (POST /api/setup).
    const user = caller.session.userId === null ? null : deps.users.get(caller.session.userId);
    if (caller.session.userId !== null && !user?.enabled) throw new Unauthorized();
    const view: SessionView = { user: user ? { id: user.id, name: user.name, email: user.email } : null, csrf_token: caller.csrfToken, started_at: new Date(caller.session.startedAt).toISOString() };
    return sendJson(reply, view);
  });

  api.post('/session/logout', async (request, reply) => {
    const caller = request.adminCaller;
    // The admin token is not a session: "signing out" could end nothing, and answering signed_out would
    // tell the desktop app (or a script) something untrue, so it is refused rather than ignored.
    if (caller?.kind === 'token') throw new InvalidRequest('there is no session to sign out of: the admin token is not a session');
    if (caller?.kind !== 'session') throw new Unauthorized();
    deps.transaction(() => {
      if (deps.sessions.end(caller.session.idHash)) deps.audit.append({ event: 'ui.session_ended', decision: 'info', subject: caller.session.userId, reason: 'signed out' });
    });
    reply.header('set-cookie', UiSessions.clearedCookies());
    return sendJson(reply, { signed_out: true });
  });
}

/** The owner as the session and the status name them; null before setup. */
export function ownerView(users: Users): SessionView['user'] {
  const owner = users.owner();
  return owner ? { id: owner.id, name: owner.name, email: owner.email } : null;
}
