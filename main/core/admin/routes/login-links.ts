import { loginLinkRequest } from '../../../../shared/admin-api.js';
import { DirectoryError } from '../../directory/errors.js';
import { isSafeNext } from '../../consent/ui-sessions.js';
import { sendJson } from '../../transport/http-app.js';
import { parse, type AdminScope } from '../admin-scope.js';

/**
 * A one-time link that opens a UI session for the owner (issue 3 item 1): single use, minutes long, stored
 * hashed. `next` may only lead back to this broker's authorization endpoint.
 */
export function registerLoginLinkRoutes({ api, deps, audited }: AdminScope): void {
  api.post('/login-links', async (request, reply) => {
    const { next } = parse(loginLinkRequest, request.body ?? {});
    if (next !== undefined && !isSafeNext(next)) throw new DirectoryError('next: must be a relative path to /oauth2/authorize on this broker');
    const owner = deps.users.owner();
    // No owner yet (a fresh install): a first-run link, whose session may make the owner.
    if (!owner && next !== undefined) throw new DirectoryError('there is no owner yet: open a first-run link (without next) and set up the owner first', 409);
    if (owner && !owner.enabled) throw new DirectoryError('the owner is disabled', 409);
    const link = audited('ui.login_link_created', () => deps.sessions.createLoginLink(owner?.id ?? null), () => ({ subject: owner?.id ?? null, ...(owner ? {} : { detail: { first_run: true } }) }));
    const query = new URLSearchParams({ token: link.secret, ...(next ? { next } : {}) });
    return sendJson(reply, { url: `${deps.issuer()}/ui/login?${query}`, expires_at: new Date(link.expiresAt).toISOString(), first_run: !owner }, 201);
  });
}
