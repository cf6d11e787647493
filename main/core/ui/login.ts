import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { RefusalRecorder } from '../audit/refusals.js';
import { pageHeaders, renderErrorPage } from '../consent/consent-page.js';
import { isSafeNext, UiSessions } from '../consent/ui-sessions.js';

export interface UiLoginDeps {
  sessions: UiSessions;
  audit: AuditLog;
  refusals: RefusalRecorder;
  transaction: <T>(work: () => T) => T;
}

/**
 * GET /ui/login?token=…[&next=…]: opens a one-time login link. Spends the link, starts a UI session in
 * two HttpOnly cookies (the consent flow's SameSite=Lax one and the admin API's SameSite=Strict one, see
 * ui-sessions.ts), and goes on to `next` (only ever the authorization endpoint of this broker: no open
 * redirect) or to the UI.
 */
export function registerUiLogin(app: FastifyInstance, deps: UiLoginDeps): void {
  app.get('/ui/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const token = typeof query.token === 'string' ? query.token : undefined;
    const next = query.next === undefined ? '/ui/' : query.next;
    const refuse = (status: number, message: string, reason: string) => {
      deps.refusals.record({ event: 'ui.login_refused' }, reason);
      return reply.code(status).headers(pageHeaders()).type('text/html; charset=utf-8').send(renderErrorPage('Sign-in link not valid', message));
    };
    if (typeof next !== 'string' || (next !== '/ui/' && !isSafeNext(next))) return refuse(400, 'This link leads somewhere Latchkey does not send you.', 'next is not the authorization endpoint');
    if (!token) return refuse(400, 'This sign-in link is incomplete.', 'no token');
    const outcome = deps.transaction(() => {
      const redeemed = deps.sessions.redeemLoginLink(token);
      if (redeemed.ok) deps.audit.append({ event: 'ui.session_started', decision: 'allow', subject: redeemed.session.userId, reason: redeemed.session.userId ? 'login link opened' : 'first-run link opened' });
      return redeemed;
    });
    if (!outcome.ok) return refuse(400, 'This sign-in link was already used or has expired. Run `latchkey login-url` for a new one.', outcome.reason);
    return reply.code(303).headers({ ...pageHeaders(), 'set-cookie': UiSessions.cookies(outcome.sessionId), location: next }).send();
  });
}
