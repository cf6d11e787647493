import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { approveRequest, auditExportQuery, auditQuery, consentQuery, loginLinkRequest, pauseAgentsRequest, setResourceSecretRequest, unlockVaultRequest } from '../../../shared/admin-api.js';
import type { AgentPause } from '../sts/agent-pause.js';
import type { AuditFilter, AuditLog, AuditRecord, Decision } from '../audit/audit-log.js';
import { formatAuditRecord, AUDIT_CSV_COLUMNS } from '../audit/audit-log.js';
import { DirectoryError } from '../directory/errors.js';
import type { Applications, CreatedApplication } from '../directory/applications.js';
import type { ApiKeys } from '../directory/api-keys.js';
import type { DeletedApplication } from '../consent/application-deletion.js';
import type { Resources } from '../directory/resources.js';
import type { ProviderAdmin } from '../brokered/provider-admin.js';
import type { Users } from '../directory/users.js';
import type { Consent, Consents } from '../consent/consents.js';
import type { Approval, Approvals } from '../consent/approvals.js';
import { approvalView, type ApprovalFeed } from './approval-feed.js';
import type { AuditFeed } from './audit-feed.js';
import { authenticateAdmin, Unauthorized, type AdminCaller } from './admin-sessions.js';
import { PolicyInvalid, type Policies, type StoredPolicy } from '../policy/policies.js';
import { POLICY_ACTIONS, type PolicyAction, type PolicyEngine } from '../policy/policy-engine.js';
import { isSafeNext, UiSessions } from '../consent/ui-sessions.js';
import { InvalidRequest, OAuthError } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import { sendError, sendJson } from '../transport/http-app.js';
import type { SessionView, StatusView, VaultStatus } from '../../../shared/admin-api.js';
import type { CreateApplicationRequest, CreateProviderRequest, CreateResourceRequest, GrantConsentRequest, UpdateApplicationRequest } from '../../../shared/admin-api.js';

/** What the admin API needs of the broker: the directory, the audit log, and a few broker actions. */
export interface AdminDeps {
  adminTokenHash: Buffer;
  ownOrigin: () => string;
  issuer: () => string;
  transaction: <T>(work: () => T) => T;
  applications: Applications;
  resources: Resources;
  users: Users;
  apiKeys: ApiKeys;
  audit: AuditLog;
  sessions: UiSessions;
  consents: Consents;
  /** The approval queue of backchannel authentication (CIBA), and its live feed. */
  approvals: Approvals;
  approvalFeed: ApprovalFeed;
  /** The live feed of new audit rows (the UI's audit page and overview). */
  auditFeed: AuditFeed;
  policies: Policies;
  policyEngine: PolicyEngine;
  /** Upstream providers and the owner's accounts there (brokered access, issue 5 item 4). */
  providers: ProviderAdmin;
  /** Records the user's background-access grant (and its token family), audited, in one transaction. */
  grantBackgroundAccess: (request: GrantConsentRequest) => { consent: Consent; created: boolean };
  /** Withdraws a consent and ends its token families, in one transaction; null when it was not active. */
  withdrawConsent: (id: string, why: string) => Consent | null;
  /** Revokes the application's live access tokens for resources it no longer depends on; within the caller's transaction. */
  endAccessToRemovedResources: (clientId: string, resources: readonly string[]) => number;
  /** Deletes an application after ending its consents and tokens, in one audited transaction. */
  deleteApplication: (clientId: string) => DeletedApplication;
  vaultStatus: () => VaultStatus;
  /** Opens the vault: with a passphrase, or (a keychain vault) with none. */
  unlockVault: (passphrase: string | undefined) => Promise<VaultStatus>;
  /** Locks the vault: nothing that needs it is issued until it is unlocked. Audited. */
  lockVault: () => VaultStatus;
  /** "Pause all agents". */
  agentPause: AgentPause;
  /** Where this broker runs: its data dir, port and local socket (the UI's settings page). */
  runtime: () => { dataDir: string; port: number; socket: string | null };
  rotateKeys: () => Promise<{ kid: string; retired: string | null }>;
  listKeys: () => unknown[];
}

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
 * transaction that makes it.
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

    const audited = <T>(event: string, work: () => T, describe: (result: T) => { clientId?: string | null; resource?: string | null; subject?: string | null; detail?: Record<string, unknown> }): T =>
      deps.transaction(() => {
        const result = work();
        deps.audit.append({ event, decision: 'info', reason: 'admin change', ...describe(result) });
        return result;
      });

    // The UI's session (issue 6 item 2): who is signed in, and the CSRF token its changes must carry. The
    // desktop app's UI has no cookie: its shell forwards /api/* with the admin token (app-protocol.ts), so a
    // Bearer caller is answered with the owner and no CSRF token (a Bearer request cannot come from a web
    // page: browsers never attach that header on their own).
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

    api.get('/status', async (_request, reply) => {
      const { dataDir, port, socket } = deps.runtime();
      const status: StatusView = { issuer: deps.issuer(), vault: deps.vaultStatus(), owner: ownerView(deps.users), agents_paused: deps.agentPause.paused, data_dir: dataDir, port, socket };
      return sendJson(reply, status);
    });

    // The user's brakes (issue 6): from the tray, the UI or the CLI. Each switch is audited.
    api.post('/agents/pause', async (request, reply) => {
      const parsed = pauseAgentsRequest.safeParse(body(request));
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      return sendJson(reply, { paused: deps.agentPause.set(parsed.data.paused, 'the admin') });
    });

    api.post('/setup', async (request, reply) => {
      const caller = request.adminCaller;
      const result = audited('admin.setup', () => {
        const made = deps.users.setupOwner(body(request) as { name: string; email: string });
        // The first-run session that made the owner is the owner's from now on.
        if (caller?.kind === 'session' && caller.session.userId === null) deps.sessions.bindToOwner(caller.session.idHash, made.user.id);
        return made;
      }, ({ user }) => ({ subject: user.id }));
      return sendJson(reply, { id: result.user.id, name: result.user.name, email: result.user.email, created: result.created }, result.created ? 201 : 200);
    });

    api.get('/resources', async (_request, reply) => sendJson(reply, deps.resources.list().map((resource) => deps.resources.view(resource))));
    api.post('/resources', async (request, reply) => {
      // A vaulted resource's secret is sealed in this transaction with the row and its audit row; the
      // response (the view) says only that there is one. The audit row names no secret.
      const resource = audited('admin.resource_created', () => deps.resources.create(body(request) as CreateResourceRequest),
        (created) => ({ resource: created.identifier, detail: { credential_type: created.credentialType, ...(created.providerId ? { provider_id: created.providerId, upstream_scopes: created.upstreamScopes } : {}) } }));
      return sendJson(reply, deps.resources.view(resource), 201);
    });
    // Rotation (issue 5 item 3): the new secret replaces the old in one transaction with its audit row.
    // The identifier travels in the body: a URI in a path segment would need escaping of its own.
    api.post('/resources/secret', async (request, reply) => {
      const parsed = setResourceSecretRequest.safeParse(body(request));
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      const { identifier, secret } = parsed.data;
      const resource = audited('admin.resource_secret_replaced', () => deps.resources.replaceSecret(identifier, secret), () => ({ resource: identifier }));
      return sendJson(reply, deps.resources.view(resource));
    });

    // Providers (issue 5 item 4): the client secret goes into the vault and is never shown again; connect answers
    // the URL the owner opens; disconnect revokes upstream where offered; a provider in use cannot be deleted.
    api.get('/providers', async (_request, reply) => sendJson(reply, deps.providers.list()));
    api.post('/providers', async (request, reply) => sendJson(reply, deps.providers.create(body(request) as CreateProviderRequest), 201));
    api.post('/providers/:id/connect', async (request, reply) => sendJson(reply, await deps.providers.connect((request.params as { id: string }).id)));
    api.post('/providers/:id/disconnect', async (request, reply) => sendJson(reply, await deps.providers.disconnect((request.params as { id: string }).id)));
    api.delete('/providers/:id', async (request, reply) => sendJson(reply, await deps.providers.delete((request.params as { id: string }).id)));

    api.get('/applications', async (_request, reply) => sendJson(reply, deps.applications.list().map((application) => deps.applications.view(application))));
    api.get('/applications/:clientId', async (request, reply) => {
      const application = deps.applications.get((request.params as { clientId: string }).clientId);
      if (!application) throw new DirectoryError('unknown application', 404);
      return sendJson(reply, deps.applications.view(application));
    });
    api.post('/applications', async (request, reply) => {
      const created: CreatedApplication = audited('admin.application_created', () => deps.applications.create(body(request) as CreateApplicationRequest),
        ({ application }) => ({ clientId: application.clientId, detail: { name: application.name, auth_method: application.authMethod, grant_types: application.grantTypes } }));
      // The secret is in this one response and nowhere else, ever.
      return sendJson(reply, { ...deps.applications.view(created.application), ...(created.clientSecret ? { client_secret: created.clientSecret } : {}) }, 201);
    });
    // Changes what app create set (issue 4 item 2): one audit row saying what changed, and the permission to
    // impersonate, when it changes, a row of its own (once policies exist, this writes the permitting policy).
    api.patch('/applications/:clientId', async (request, reply) => {
      const clientId = (request.params as { clientId: string }).clientId;
      const updated = deps.transaction(() => {
        const result = deps.applications.update(clientId, body(request) as UpdateApplicationRequest);
        // A removed dependency's live tokens end with it, in this transaction (dependency-removal.ts).
        const revoked = deps.endAccessToRemovedResources(clientId, result.changes.resources_removed ?? []);
        deps.audit.append({ event: 'admin.application_updated', decision: 'info', reason: 'admin change', clientId,
          detail: { changes: result.changes, ...(result.changes.resources_removed ? { access_tokens_revoked: revoked } : {}) } });
        const impersonation = result.changes.allow_impersonation;
        if (impersonation) {
          deps.audit.append({ event: impersonation.to ? 'admin.impersonation_allowed' : 'admin.impersonation_denied', decision: 'info', reason: 'admin change', clientId,
            detail: { allow_impersonation: impersonation.to, consent_mode: result.application.consentMode } });
          // Impersonation needs a policy permit (issue 5 item 1): allowing it writes that policy, denying removes it.
          deps.policies.setImpersonationPermit(clientId, impersonation.to);
        }
        return result;
      });
      if (updated.changes.allow_impersonation) deps.policies.reload();
      return sendJson(reply, { ...deps.applications.view(updated.application), changes: updated.changes });
    });
    // Cedar policies (issue 5 item 1): the defaults shipped with Latchkey, and the admin's, validated against
    // the schema before they are saved (the error names the line), versioned, every change audited.
    api.get('/policies', async (_request, reply) => sendJson(reply, {
      version: deps.policies.version(),
      defaults: deps.policyEngine.defaults.map((policy) => ({ id: policy.id, text: policy.text, default: true })),
      policies: deps.policies.list().map(policyView),
    }));
    api.post('/policies', async (request, reply) => {
      const { text, description } = policyBody(request);
      return sendJson(reply, policyView(deps.policies.add(text, description ?? null)), 201);
    });
    api.post('/policies/validate', async (request, reply) => sendJson(reply, { valid: true, ...deps.policies.validate(policyBody(request).text) }));
    api.delete('/policies/:id', async (request, reply) => sendJson(reply, policyView(deps.policies.remove((request.params as { id: string }).id))));
    // What-if: would this issuance be allowed, and by which policies. Nothing is issued or recorded.
    api.post('/policies/test', async (request, reply) => {
      const asked = body(request) as { app?: unknown; resource?: unknown; action?: unknown; scopes?: unknown; user?: unknown; delegation_depth?: unknown; transport?: unknown; trust_level?: unknown };
      if (typeof asked.app !== 'string' || typeof asked.resource !== 'string' || typeof asked.action !== 'string') throw new DirectoryError('app, resource and action are required');
      if (!POLICY_ACTIONS.includes(asked.action as PolicyAction)) throw new DirectoryError(`action must be one of ${POLICY_ACTIONS.join(', ')}`);
      const app = deps.applications.get(asked.app);
      if (!app) throw new DirectoryError('unknown application', 404);
      const resource = deps.resources.get(asked.resource);
      if (!resource) throw new DirectoryError('unknown resource', 404);
      const user = typeof asked.user === 'string' ? deps.users.findByIdentifier(asked.user) : null;
      if (typeof asked.user === 'string' && !user) throw new DirectoryError('unknown user', 404);
      const scopes = Array.isArray(asked.scopes) ? asked.scopes.filter((scope): scope is string => typeof scope === 'string') : resource.scopes;
      const depth = typeof asked.delegation_depth === 'number' && Number.isInteger(asked.delegation_depth) ? asked.delegation_depth : (asked.action === 'delegation_chain' || asked.action === 'impersonation' ? 1 : 0);
      const decision = deps.policyEngine.decide({
        app, trustLevel: (typeof asked.trust_level === 'string' ? asked.trust_level : 'shared_secret') as never, action: asked.action as PolicyAction,
        resource: { identifier: resource.identifier, name: resource.name, credentialType: resource.credentialType },
        grantType: GRANT_FOR_ACTION[asked.action as PolicyAction], scopes, delegationDepth: depth, actors: [],
        transport: asked.transport === 'socket' ? 'socket' : (asked.action === 'impersonation' ? 'socket' : 'tcp'),
        user: user ? { id: user.id, email: user.email } : null,
      });
      return sendJson(reply, { decision: decision.decision, allowed: decision.decision === 'allow', policies: decision.policies });
    });

    for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
      api.post(`/applications/:clientId/${action}`, async (request, reply) => {
        const clientId = (request.params as { clientId: string }).clientId;
        const application = audited(`admin.application_${action}d`, () => deps.applications.setEnabled(clientId, enabled), () => ({ clientId }));
        return sendJson(reply, deps.applications.view(application));
      });
    }

    // Deleting ends what the application was given (consents, token families, live access tokens) and
    // removes it; the audit log keeps its history. A dynamically registered client is deleted the same way.
    api.delete('/applications/:clientId', async (request, reply) => {
      const deleted = deps.deleteApplication((request.params as { clientId: string }).clientId);
      return sendJson(reply, { client_id: deleted.clientId, name: deleted.name, registration: deleted.registration, deleted: true,
        consents_withdrawn: deleted.consents, access_tokens_revoked: deleted.accessTokens });
    });

    api.get('/api-keys', async (request, reply) => sendJson(reply, deps.apiKeys.list((request.query as { client_id?: string }).client_id)));
    api.post('/applications/:clientId/api-keys', async (request, reply) => {
      const clientId = (request.params as { clientId: string }).clientId;
      const created = audited('admin.api_key_created', () => deps.apiKeys.create(clientId), (key) => ({ clientId, detail: { api_key_id: key.id } }));
      return sendJson(reply, { id: created.id, client_id: clientId, api_key: created.apiKey }, 201);
    });
    api.post('/api-keys/:id/revoke', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const revoked = audited('admin.api_key_revoked', () => deps.apiKeys.revoke(id), (key) => ({ clientId: key.client_id, detail: { api_key_id: id } }));
      return sendJson(reply, { id, client_id: revoked.client_id, revoked: true });
    });

    // A one-time link that opens a UI session for the owner (issue 3 item 1): single use, minutes long,
    // stored hashed. `next` may only lead back to this broker's authorization endpoint.
    api.post('/login-links', async (request, reply) => {
      const parsed = loginLinkRequest.safeParse(request.body ?? {});
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      const next = parsed.data.next;
      if (next !== undefined && !isSafeNext(next)) throw new DirectoryError('next: must be a relative path to /oauth2/authorize on this broker');
      const owner = deps.users.owner();
      // No owner yet (a fresh install): a first-run link, whose session may make the owner.
      if (!owner && next !== undefined) throw new DirectoryError('there is no owner yet: open a first-run link (without next) and set up the owner first', 409);
      if (owner && !owner.enabled) throw new DirectoryError('the owner is disabled', 409);
      const link = audited('ui.login_link_created', () => deps.sessions.createLoginLink(owner?.id ?? null), () => ({ subject: owner?.id ?? null, ...(owner ? {} : { detail: { first_run: true } }) }));
      const query = new URLSearchParams({ token: link.secret, ...(next ? { next } : {}) });
      return sendJson(reply, { url: `${deps.issuer()}/ui/login?${query}`, expires_at: new Date(link.expiresAt).toISOString(), first_run: !owner }, 201);
    });

    const consentView = (consent: Consent) => deps.consents.view(consent, deps.applications.get(consent.clientId));
    api.get('/consents', async (request, reply) => {
      const parsed = consentQuery.safeParse(request.query);
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      const { client_id, user_id, include_revoked } = parsed.data;
      return sendJson(reply, deps.consents.list({ clientId: client_id, userId: user_id, includeRevoked: include_revoked === 'true' }).map(consentView));
    });
    // The user's background-access grant (issue 4 item 2d); interactive consent is given on the consent page.
    api.post('/consents', async (request, reply) => {
      const granted = deps.grantBackgroundAccess(body(request) as GrantConsentRequest);
      return sendJson(reply, consentView(granted.consent), granted.created ? 201 : 200);
    });
    api.post('/consents/:id/revoke', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      if (!deps.consents.get(id)) throw new DirectoryError('unknown consent', 404);
      const withdrawn = deps.withdrawConsent(id, 'withdrawn by the admin');
      return sendJson(reply, { ...consentView(withdrawn ?? deps.consents.get(id)!), withdrawn: withdrawn !== null });
    });
    // Everything an application may do for the users: withdrawn at once.
    api.post('/applications/:clientId/consents/revoke', async (request, reply) => {
      const clientId = (request.params as { clientId: string }).clientId;
      if (!deps.applications.get(clientId)) throw new DirectoryError('unknown application', 404);
      const withdrawn = deps.consents.list({ clientId }).map((consent) => deps.withdrawConsent(consent.id, 'withdrawn by the admin')).filter((consent): consent is Consent => consent !== null);
      return sendJson(reply, withdrawn.map(consentView));
    });

    // Approvals for agents without a browser (issue 5 item 2): what waits, the user's answer, a live feed.
    api.get('/approvals', async (_request, reply) => sendJson(reply, deps.approvals.pending().map(approvalView)));
    api.get('/approvals/events', async (request, reply) => {
      if (request.url.includes('?')) throw new InvalidRequest('the feed takes no parameters');
      reply.hijack();
      deps.approvalFeed.open(reply.raw);
    });
    const answered = (approval: Approval) => ({ ...approvalView(deps.approvals.prompt(approval)), status: approval.status, consent_id: approval.consentId });
    api.post('/approvals/:id/approve', async (request, reply) => {
      const parsed = approveRequest.safeParse(request.body ?? {});
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      return sendJson(reply, answered(deps.approvals.approve((request.params as { id: string }).id, { rememberSeconds: parsed.data.remember_seconds })));
    });
    api.post('/approvals/:id/deny', async (request, reply) => sendJson(reply, answered(deps.approvals.deny((request.params as { id: string }).id))));

    api.get('/keys', async (_request, reply) => sendJson(reply, deps.listKeys()));
    api.post('/keys/rotate', async (_request, reply) => sendJson(reply, await deps.rotateKeys()));

    api.get('/vault', async (_request, reply) => sendJson(reply, deps.vaultStatus()));
    api.post('/vault/unlock', async (request, reply) => {
      const parsed = unlockVaultRequest.safeParse(request.body ?? {});
      if (!parsed.success) throw new InvalidRequest('passphrase is required');
      return sendJson(reply, await deps.unlockVault(parsed.data.passphrase));
    });
    api.post('/vault/lock', async (_request, reply) => sendJson(reply, deps.lockVault()));

    api.get('/audit', async (request, reply) => {
      const parsed = auditQuery.safeParse(request.query);
      if (!parsed.success) throw DirectoryError.fromZod(parsed.error);
      return sendJson(reply, deps.audit.list({ ...auditFilterOf(parsed.data), beforeSeq: parsed.data.before, limit: parsed.data.limit }));
    });
    // New audit rows as server-sent events (the UI's audit page and overview).
    api.get('/audit/events', async (request, reply) => {
      if (request.url.includes('?')) throw new InvalidRequest('the feed takes no parameters');
      reply.hijack();
      deps.auditFeed.open(reply.raw);
    });
    api.get('/audit/verify', async (_request, reply) => sendJson(reply, deps.audit.verify()));
    // Exports what the audit page shows: every row its filters match, not only the page's latest.
    api.get('/audit/export', async (request, reply) => {
      const parsed = auditExportQuery.safeParse(request.query);
      if (!parsed.success) {
        if (parsed.error.issues.some((issue) => issue.path[0] === 'format')) throw new InvalidRequest('format must be jsonl or csv');
        throw DirectoryError.fromZod(parsed.error);
      }
      return exportAudit(deps.audit.matching(auditFilterOf(parsed.data)), parsed.data.format, reply);
    });
  }, { prefix: '/api' });
}

function body(request: FastifyRequest): unknown {
  if (request.body === undefined || request.form) throw new InvalidRequest('the body must be JSON');
  return request.body;
}

function ownerView(users: Users): { id: string; name: string; email: string } | null {
  const owner = users.owner();
  return owner ? { id: owner.id, name: owner.name, email: owner.email } : null;
}

/** The audit log's filter from the admin API's query; `user` is another name for `subject`. */
function auditFilterOf(query: { client_id?: string | undefined; subject?: string | undefined; user?: string | undefined; resource?: string | undefined; event?: string | undefined; decision?: Decision | undefined; since?: number | undefined; until?: number | undefined }): AuditFilter {
  if (query.subject && query.user && query.subject !== query.user) throw new DirectoryError('subject and user name different users: give one');
  return { clientId: query.client_id, subject: query.subject || query.user, resource: query.resource, event: query.event, decision: query.decision, since: query.since, until: query.until };
}

function exportAudit(records: Iterable<AuditRecord>, format: 'jsonl' | 'csv', reply: FastifyReply): FastifyReply {
  const lines: string[] = format === 'csv' ? [AUDIT_CSV_COLUMNS.join(',')] : [];
  for (const record of records) lines.push(formatAuditRecord(record, format));
  return reply
    .header('cache-control', 'no-store')
    .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
    .send(lines.join('\n') + (lines.length ? '\n' : ''));
}

const GRANT_FOR_ACTION: Record<PolicyAction, string> = {
  user_delegation: 'authorization_code',
  refresh: 'refresh_token',
  autonomous: 'client_credentials',
  delegation_chain: 'urn:ietf:params:oauth:grant-type:token-exchange',
  impersonation: 'urn:ietf:params:oauth:grant-type:token-exchange',
};

function policyBody(request: FastifyRequest): { text: string; description?: string } {
  const given = body(request) as { text?: unknown; description?: unknown };
  if (typeof given.text !== 'string' || given.text.length === 0) throw new DirectoryError('text (the Cedar policy) is required');
  if (given.text.length > 64 * 1024) throw new DirectoryError('the policy text is too long (64 KiB at most)');
  if (given.description !== undefined && typeof given.description !== 'string') throw new DirectoryError('description must be a string');
  return { text: given.text, ...(typeof given.description === 'string' ? { description: given.description.slice(0, 500) } : {}) };
}

const policyView = (policy: StoredPolicy) => ({
  id: policy.id, text: policy.text, description: policy.description, client_id: policy.clientId, version: policy.addedVersion, created_at: policy.createdAt,
});
