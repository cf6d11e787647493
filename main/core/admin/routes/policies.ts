import type { z } from 'zod';
import { policyRequest, policyTestRequest } from '../../../../shared/admin-api.js';
import { GRANT_TYPES, type TrustLevel } from '../../../../shared/domain.js';
import { DirectoryError } from '../../directory/errors.js';
import type { StoredPolicy } from '../../policy/policies.js';
import { POLICY_ACTIONS, type PolicyAction, type PolicyDecision } from '../../policy/policy-engine.js';
import { sendJson } from '../../transport/http-app.js';
import { idParams, jsonBody, parse, type AdminDeps, type AdminScope } from '../admin-scope.js';

/**
 * Cedar policies (issue 5 item 1): the defaults shipped with Latchkey, and the admin's, validated against the
 * schema before they are saved (the error names the line), versioned, every change audited.
 */
export function registerPolicyRoutes({ api, deps }: AdminScope): void {
  api.get('/policies', async (_request, reply) => sendJson(reply, {
    version: deps.policies.version(),
    defaults: deps.policyEngine.defaults.map((policy) => ({ id: policy.id, text: policy.text, default: true })),
    policies: deps.policies.list().map(policyView),
  }));

  api.post('/policies', async (request, reply) => {
    const { text, description } = parseAsWritten(policyRequest, jsonBody(request));
    return sendJson(reply, policyView(deps.policies.add(text, description ?? null)), 201);
  });

  api.post('/policies/validate', async (request, reply) => sendJson(reply, { valid: true, ...deps.policies.validate(parseAsWritten(policyRequest, jsonBody(request)).text) }));

  api.delete('/policies/:id', async (request, reply) => sendJson(reply, policyView(deps.policies.remove(parse(idParams, request.params).id))));

  // What-if: would this issuance be allowed, and by which policies. Nothing is issued or recorded.
  api.post('/policies/test', async (request, reply) => {
    const decision = whatIf(deps, parseAsWritten(policyTestRequest, jsonBody(request)));
    return sendJson(reply, { decision: decision.decision, allowed: decision.decision === 'allow', policies: decision.policies });
  });
}

/** Parses a request whose schema words each problem in full: the description carries no field path. */
function parseAsWritten<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DirectoryError(parsed.error.issues[0]?.message ?? 'invalid request');
  return parsed.data;
}

/** The policy engine's answer to a made-up issuance, with the defaults a real one of that action would have. */
function whatIf(deps: AdminDeps, asked: z.output<typeof policyTestRequest>): PolicyDecision {
  if (!isPolicyAction(asked.action)) throw new DirectoryError(`action must be one of ${POLICY_ACTIONS.join(', ')}`);
  const action = asked.action;
  const app = deps.applications.get(asked.app);
  if (!app) throw new DirectoryError('unknown application', 404);
  const resource = deps.resources.get(asked.resource);
  if (!resource) throw new DirectoryError('unknown resource', 404);
  const user = asked.user === undefined ? null : deps.users.findByIdentifier(asked.user);
  if (asked.user !== undefined && !user) throw new DirectoryError('unknown user', 404);
  const chained = action === 'delegation_chain' || action === 'impersonation';
  return deps.policyEngine.decide({
    // Any level the admin names is asked about as it is: Cedar compares it as a string.
    app, trustLevel: (asked.trust_level ?? 'shared_secret') as TrustLevel, action,
    resource: { identifier: resource.identifier, name: resource.name, credentialType: resource.credentialType },
    grantType: GRANT_FOR_ACTION[action], scopes: asked.scopes ?? resource.scopes, delegationDepth: asked.delegation_depth ?? (chained ? 1 : 0), actors: [],
    // Impersonation arrives over the local socket only.
    transport: asked.transport === 'socket' || action === 'impersonation' ? 'socket' : 'tcp',
    user: user ? { id: user.id, email: user.email } : null,
  });
}

const isPolicyAction = (action: string): action is PolicyAction => (POLICY_ACTIONS as readonly string[]).includes(action);

const GRANT_FOR_ACTION: Record<PolicyAction, string> = {
  user_delegation: GRANT_TYPES.authorizationCode,
  refresh: GRANT_TYPES.refreshToken,
  autonomous: GRANT_TYPES.clientCredentials,
  delegation_chain: GRANT_TYPES.tokenExchange,
  impersonation: GRANT_TYPES.tokenExchange,
};

const policyView = (policy: StoredPolicy) => ({
  id: policy.id, text: policy.text, description: policy.description, client_id: policy.clientId, version: policy.addedVersion, created_at: policy.createdAt,
});
