import { GRANT_TYPES, type TrustLevel } from '../../../shared/domain.js';
import type { Applications } from '../directory/applications.js';
import { DirectoryError } from '../directory/errors.js';
import type { Resources } from '../directory/resources.js';
import type { Users } from '../directory/users.js';
import { POLICY_ACTIONS, type PolicyAction, type PolicyDecision, type PolicyEngine } from './policy-engine.js';

/** A made-up issuance the admin asks about (the Policies page's what-if): names, as the admin types them. */
export interface WhatIfQuestion {
  action: string;
  clientId: string;
  resource: string;
  /** An email address or a user id. */
  user?: string | undefined;
  /** Any level the admin names is asked about as it is: Cedar compares it as a string. */
  trustLevel?: string | undefined;
  scopes?: readonly string[] | undefined;
  delegationDepth?: number | undefined;
  /** 'socket', or anything else for loopback HTTP. */
  transport?: string | undefined;
}

const GRANT_FOR_ACTION: Record<PolicyAction, string> = {
  user_delegation: GRANT_TYPES.authorizationCode,
  refresh: GRANT_TYPES.refreshToken,
  autonomous: GRANT_TYPES.clientCredentials,
  delegation_chain: GRANT_TYPES.tokenExchange,
  impersonation: GRANT_TYPES.tokenExchange,
};

const isPolicyAction = (action: string): action is PolicyAction => (POLICY_ACTIONS as readonly string[]).includes(action);

/**
 * The policy engine's answer to a made-up issuance, with the defaults a real one of that action would have.
 * Nothing is issued or recorded.
 */
export function whatIf(deps: { applications: Applications; resources: Resources; users: Users; engine: PolicyEngine }, asked: WhatIfQuestion): PolicyDecision {
  if (!isPolicyAction(asked.action)) throw new DirectoryError(`action must be one of ${POLICY_ACTIONS.join(', ')}`);
  const action = asked.action;
  const app = deps.applications.get(asked.clientId);
  if (!app) throw new DirectoryError('unknown application', 404);
  const resource = deps.resources.get(asked.resource);
  if (!resource) throw new DirectoryError('unknown resource', 404);
  const user = asked.user === undefined ? null : deps.users.findByIdentifier(asked.user);
  if (asked.user !== undefined && !user) throw new DirectoryError('unknown user', 404);
  const chained = action === 'delegation_chain' || action === 'impersonation';
  return deps.engine.decide({
    app, trustLevel: (asked.trustLevel ?? 'shared_secret') as TrustLevel, action,
    resource: { identifier: resource.identifier, name: resource.name, credentialType: resource.credentialType },
    grantType: GRANT_FOR_ACTION[action], scopes: asked.scopes ?? resource.scopes, delegationDepth: asked.delegationDepth ?? (chained ? 1 : 0), actors: [],
    // Impersonation arrives over the local socket only.
    transport: asked.transport === 'socket' || action === 'impersonation' ? 'socket' : 'tcp',
    user: user ? { id: user.id, email: user.email } : null,
  });
}
