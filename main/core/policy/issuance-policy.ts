import type { Resources } from '../directory/resources.js';
import type { Users } from '../directory/users.js';
import type { ActClaim } from '../oauth/claims.js';
import type { PolicyAction, PolicyDecision, PolicyEngine } from './policy-engine.js';
import type { TrustLevel } from '../../../shared/domain.js';

/** What the issuance knows when it asks (a narrow view of AccessTokenRequest). */
export interface IssuanceQuestion {
  app: { clientId: string; name: string; identityType: string; subType: string | null };
  userId: string | null;
  resource: { identifier: string };
  scopes: readonly string[];
  grantType: string;
  trustLevel: TrustLevel;
  policyAction: PolicyAction;
  transport: 'tcp' | 'socket';
  act?: ActClaim | undefined;
  delegationDepth?: number | undefined;
}

/**
 * Asks Cedar about one issuance: fills in the resource's and the user's attributes (cached lookups) and the
 * chain's actors from the `act` claim the token will carry.
 */
export class IssuancePolicy {
  constructor(private readonly engine: PolicyEngine, private readonly resources: Resources, private readonly users: Users) {}

  decide(question: IssuanceQuestion): PolicyDecision {
    const resource = this.resources.get(question.resource.identifier);
    const user = question.userId === null ? null : this.users.get(question.userId);
    const actors: string[] = [];
    for (let level = question.act; level; level = level.act) actors.push(level.client_id);
    return this.engine.decide({
      app: question.app,
      trustLevel: question.trustLevel,
      action: question.policyAction,
      // A user token without a resource is addressed to Latchkey itself (its userinfo endpoint).
      resource: resource
        ? { identifier: resource.identifier, name: resource.name, credentialType: resource.credentialType }
        : { identifier: question.resource.identifier, name: 'Latchkey', credentialType: 'token' },
      grantType: question.grantType,
      scopes: question.scopes,
      delegationDepth: question.delegationDepth ?? 0,
      actors,
      transport: question.transport,
      user: user ? { id: user.id, email: user.email } : null,
    });
  }
}
