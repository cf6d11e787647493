import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DirectoryError } from '../directory/errors.js';
import { PolicyInvalid } from '../policy/policies.js';
import { OAuthError } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import { sendError } from '../transport/http-app.js';
import { authenticateAdmin, type AdminCaller } from './admin-sessions.js';
import { presenceCallerOf, type AdminDeps, type AdminScope, type Audited } from './admin-scope.js';
import { registerAgentRoutes } from './routes/agents.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerApplicationRoutes } from './routes/applications.js';
import { registerApprovalRoutes } from './routes/approvals.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerConsentRoutes } from './routes/consents.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerLoginLinkRoutes } from './routes/login-links.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerProviderRoutes } from './routes/providers.js';
import { registerResourceRoutes } from './routes/resources.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerSetupRoutes } from './routes/setup.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerVaultRoutes } from './routes/vault.js';
import { registerOwnerRoutes } from './routes/owner.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called the admin API; set by its authentication hook. */
    adminCaller?: AdminCaller;
  }
}

/**
 * The admin API (`/api/...`, JSON): what the CLI and the UI call. Authenticated by the admin token the
 * running broker wrote to its data dir (mode 0600), compared in constant time, or by the UI's admin
 * session (cookie, CSRF token and own Origin: admin-sessions.ts). Every change is audited in the
 * transaction that makes it. Each resource's routes are in routes/, named after it.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      request.adminCaller = authenticateAdmin(request, deps);
    });
    api.setErrorHandler(async (error: Error, _request, reply) => {
      if (error instanceof DirectoryError) return sendError(reply, new OAuthError('invalid_request', error.status, error.message));
      // A wrong passphrase or the wrong backend is the caller's mistake; its message names no secret.
      if (error instanceof VaultError) return sendError(reply, new OAuthError('invalid_request', 400, error.message));
      // The problem and its line, as Cedar states them: the admin's own text, nothing secret.
      if (error instanceof PolicyInvalid) return sendError(reply, new OAuthError('invalid_policy', 400, error.message));
      throw error;
    });

    const audited: Audited = (event, work, describe) =>
      deps.transaction(() => {
        const result = work();
        deps.audit.append({ event, decision: 'info', reason: 'admin change', ...describe(result) });
        return result;
      });

    const requireOwner = (request: FastifyRequest): void => {
      try {
        deps.presence.require(presenceCallerOf(request));
      } catch (error) {
        // An agent trying to loosen with the admin token, or a session the owner has not confirmed: recorded.
        if (error instanceof OAuthError) deps.refusals.record({ event: 'owner.presence_required', detail: { method: request.method, path: request.url.split('?')[0] } }, error);
        throw error;
      }
    };
    const scope: AdminScope = { api, deps, audited, requireOwner };
    for (const register of [
      registerSessionRoutes, registerStatusRoutes, registerAgentRoutes, registerSetupRoutes, registerLoginLinkRoutes,
      registerResourceRoutes, registerProviderRoutes, registerApplicationRoutes, registerApiKeyRoutes, registerPolicyRoutes,
      registerConsentRoutes, registerApprovalRoutes, registerKeyRoutes, registerVaultRoutes, registerAuditRoutes, registerOwnerRoutes,
    ]) register(scope);
  }, { prefix: '/api' });
}
