import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CSRF_HEADER } from '../../../shared/admin-api.js';
import type { RefusalRecorder } from '../audit/refusals.js';
import { secretMatches } from '../store/credentials.js';
import type { Users } from '../directory/users.js';
import { ADMIN_SESSION_COOKIE, type AdminUiSession, type UiSessions } from '../consent/ui-sessions.js';
import { Forbidden, OAuthError } from '../oauth/errors.js';


const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Who is calling the admin API: the CLI (the admin token) or a signed-in browser (an admin session). */
export type AdminCaller = { kind: 'token' } | { kind: 'session'; session: AdminUiSession; csrfToken: string };

export class Unauthorized extends OAuthError {
  constructor() { super('unauthorized', 401, 'admin credentials required', { headers: { 'WWW-Authenticate': 'Bearer realm="latchkey-admin"' } }); }
}

/**
 * A session's CSRF token, derived from the session id the Strict cookie holds: a page that cannot read
 * the cookie (HttpOnly) cannot compute it, and only the signed-in UI learns it (`GET /api/session`, which
 * a foreign page cannot read: no CORS). Nothing to store; it is not the hash the database keeps.
 */
export function csrfToken(sessionId: string): string {
  return createHash('sha256').update('latchkey admin csrf\n').update(sessionId).digest('base64url');
}

/**
 * Authenticates an admin request (issue 6 item 2). A foreign `Origin` is refused whatever the
 * credential: no web page drives the admin API. Then the admin token as a Bearer credential, as the CLI
 * sends it, or else the admin session's SameSite=Strict cookie. A cookie is sent by the browser on its
 * own, so a cookie-authenticated request that changes anything must also prove it comes from the UI:
 * its `Origin` is the broker's own (a missing one is refused too: browsers send it on these methods)
 * and it carries the session's CSRF token, compared in constant time. Such a refusal is recorded: a
 * live session's cookie on a forged request means someone tried to drive it.
 */
export function authenticateAdmin(request: FastifyRequest, deps: { adminTokenHash: Buffer; sessions: UiSessions; users: Users; ownOrigin: () => string; refusals: RefusalRecorder }): AdminCaller {
  const origin = request.headers.origin;
  const found = deps.sessions.withSessionId(request.headers.cookie, ADMIN_SESSION_COOKIE);
  const refuse = (description: string, reason: string): never => {
    if (found) deps.refusals.record({ event: 'admin.request_refused', subject: found.session.userId, detail: { method: request.method, path: request.url.split('?')[0] } }, reason);
    throw new Forbidden(description, { reason });
  };
  if (origin !== undefined && origin !== deps.ownOrigin()) refuse('cross-origin requests are not allowed here', 'foreign Origin header');

  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(authorization);
    if (!match || !secretMatches(match[1]!, deps.adminTokenHash)) throw new Unauthorized();
    return { kind: 'token' };
  }
  if (!found) throw new Unauthorized();
  // A session outlives nothing it stands for: a disabled (or removed) owner's session opens nothing.
  if (found.session.userId !== null && deps.users.get(found.session.userId)?.enabled !== true) throw new Unauthorized();
  const expected = csrfToken(found.sessionId);
  if (UNSAFE_METHODS.has(request.method)) {
    if (origin === undefined) refuse('cross-origin requests are not allowed here', 'admin session request without an Origin header');
    const presented = request.headers[CSRF_HEADER];
    if (typeof presented !== 'string' || !sameToken(presented, expected)) refuse('the CSRF token is missing or wrong', 'admin session request without its CSRF token');
  }
  return { kind: 'session', session: found.session, csrfToken: expected };
}

function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
