import type { z } from 'zod';
import { policyRequest, policyTestRequest } from '../../../../shared/admin-api.js';
import { DirectoryError } from '../../directory/errors.js';
import type { StoredPolicy } from '../../policy/policies.js';
import { whatIf } from '../../policy/what-if.js';
import { sendJson } from '../../transport/http-app.js';
import { idParams, jsonBody, parse, type AdminScope } from '../admin-scope.js';

/**
 * Cedar policies (issue 5 item 1): the defaults shipped with Latchkey, and the admin's, validated against the
 * schema before they are saved (the error names the line), versioned, every change audited.
 */
export function registerPolicyRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/policies', async (_request, reply) => sendJson(reply, {
    version: deps.policies.version(),
    defaults: deps.policyEngine.defaults.map((policy) => ({ id: policy.id, text: policy.text, default: true })),
    policies: deps.policies.list().map(policyView),
  }));

  api.post('/policies', async (request, reply) => {
    requireOwner(request);
    const { text, description } = parseAsWritten(policyRequest, jsonBody(request));
    return sendJson(reply, policyView(deps.policies.add(text, description ?? null)), 201);
  });

  api.post('/policies/validate', async (request, reply) => sendJson(reply, { valid: true, ...deps.policies.validate(parseAsWritten(policyRequest, jsonBody(request)).text) }));

  // Removing a forbid loosens as much as adding a permit: every change to the policy set needs the owner.
  api.delete('/policies/:id', async (request, reply) => {
    requireOwner(request);
    return sendJson(reply, policyView(deps.policies.remove(parse(idParams, request.params).id)));
  });

  // What-if: would this issuance be allowed, and by which policies. Nothing is issued or recorded.
  api.post('/policies/test', async (request, reply) => {
    const asked = parseAsWritten(policyTestRequest, jsonBody(request));
    const decision = whatIf({ applications: deps.applications, resources: deps.resources, users: deps.users, engine: deps.policyEngine }, {
      action: asked.action, clientId: asked.app, resource: asked.resource, user: asked.user, trustLevel: asked.trust_level,
      scopes: asked.scopes, delegationDepth: asked.delegation_depth, transport: asked.transport,
    });
    return sendJson(reply, { decision: decision.decision, allowed: decision.decision === 'allow', policies: decision.policies });
  });
}

/** Parses a request whose schema words each problem in full: the description carries no field path. */
function parseAsWritten<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DirectoryError(parsed.error.issues[0]?.message ?? 'invalid request');
  return parsed.data;
}

const policyView = (policy: StoredPolicy) => ({
  id: policy.id, text: policy.text, description: policy.description, client_id: policy.clientId, version: policy.addedVersion, created_at: policy.createdAt,
});
