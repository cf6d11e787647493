// Impersonation (issue 4 item 2) over the local socket for the bench: an application acting for the owner
// without the owner present. Measured only when the broker supports it: one request decides.
import { admin, AdminError, type LatchkeyProcess } from './latchkey.js';
import { TOKEN_EXCHANGE } from './token-exchange.js';
import { basicAuthorization, checkTokenEndpoint, requestToken, type TokenCheck, type TokenTarget } from './token-check.js';

export const SUBSTITUTE_USER_TOKEN_TYPE = 'urn:latchkey:params:oauth:token-type:substitute-user';
const OWNER = { name: 'Bench Owner', email: 'owner@bench.latchkey.test' };

export type ImpersonationBench =
  | { measured: true; target: TokenTarget; requesterClientId: string; check: TokenCheck }
  | { measured: false; requesterClientId: string; reason: string };

/**
 * What impersonation needs beyond an application with the token-exchange grant and consent mode
 * `implicit`: the admin's permission (`latchkey app update CLIENT_ID --allow-impersonation`) and the
 * owner's background-access grant for the resource (`latchkey consent grant --app CLIENT_ID --resource
 * URI --background`). Both over the socket, as the CLI sends them.
 *
 * ASSUMED ROUTES: impersonation was being built while this bench was written, so these two calls are
 * guesses from the admin API's shape (the rest of `app update` as a PATCH of the application, a consent
 * created by POST beside GET /consents and POST /consents/:id/revoke; the user, as in the CLI, is the
 * owner). Fix them here, and only here, once the routes exist.
 */
export async function permitImpersonation(latchkey: LatchkeyProcess, clientId: string, resource: string): Promise<void> {
  await admin(latchkey, 'PATCH', `/applications/${encodeURIComponent(clientId)}`, { allow_impersonation: true }, { via: 'socket' });
  await admin(latchkey, 'POST', '/consents', { client_id: clientId, resources: [resource], background: true }, { via: 'socket' });
}

/**
 * The owner, an application allowed to impersonate them for `resource`, and one impersonation request
 * over the socket: 200 with a token that verifies → measured; any other answer → not measured, with the
 * broker's error code and description (a broker without impersonation is not an invalid run).
 */
export async function setUpImpersonation(latchkey: LatchkeyProcess, resource: string, scope: string): Promise<ImpersonationBench> {
  await admin(latchkey, 'POST', '/setup', OWNER);
  const app = await admin<{ client_id: string; client_secret: string }>(latchkey, 'POST', '/applications', {
    name: 'Bench background agent', identity_type: 'agent', auth_method: 'client_secret_basic', grant_types: ['token-exchange'], resources: [resource], consent_mode: 'implicit',
  });
  let setupFailure = '';
  try {
    await permitImpersonation(latchkey, app.client_id, resource);
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    setupFailure = `; setup: admin ${error.method} ${error.path} answered ${error.status}`;
  }

  const target: TokenTarget = {
    name: 'Latchkey impersonation',
    issuer: latchkey.issuer,
    // Any Host is accepted on the socket; the path is what matters.
    tokenEndpoint: 'http://localhost/oauth2/token',
    socketPath: latchkey.socket,
    authorization: basicAuthorization(app.client_id, app.client_secret),
    body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: OWNER.email, subject_token_type: SUBSTITUTE_USER_TOKEN_TYPE, resource, scope }).toString(),
    resource,
    scope,
  };
  const probe = await requestToken(target);
  if (probe.status !== 200) {
    let answer = `HTTP ${probe.status}`;
    try {
      const body = JSON.parse(probe.text) as { error?: unknown; error_description?: unknown };
      if (typeof body.error === 'string') answer = `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`;
    } catch {
      // Not JSON: the status says it.
    }
    return { measured: false, requesterClientId: app.client_id, reason: `${answer}${setupFailure}` };
  }
  // Supported: the token must verify like any other. What it carries to show that someone acts for the
  // user (act, delegation_depth) is recorded with the check, not required here.
  const check = await checkTokenEndpoint(target);
  return { measured: true, target, requesterClientId: app.client_id, check };
}
