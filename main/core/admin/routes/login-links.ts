import { loginLinkRequest } from '../../../../shared/admin-api.js';
import { DirectoryError } from '../../directory/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { parse, type AdminScope } from '../admin-scope.js';

/**
 * A one-time link that opens a UI session for the owner (issue 3 item 1): single use, minutes long, stored
 * hashed. `next` may only lead back to this broker's authorization endpoint (ui/login-links.ts).
 */
export function registerLoginLinkRoutes({ api, deps }: AdminScope): void {
  api.post('/login-links', async (request, reply) => {
    const { next } = parse(loginLinkRequest, request.body ?? {});
    const link = deps.loginLinks.create(deps.issuer(), next);
    if (!link) throw new DirectoryError('the owner is disabled', 409);
    return sendJson(reply, { url: link.url, expires_at: link.expiresAt, first_run: link.firstRun }, 201);
  });
}
