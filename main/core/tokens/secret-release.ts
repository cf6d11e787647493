import { TOKEN_TYPES, type TrustLevel } from '../../../shared/domain.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Application } from '../directory/applications.js';
import type { ResourceSecrets } from '../directory/resource-secrets.js';
import type { Resource } from '../directory/resources.js';
import type { GroupCommit } from '../store/group-commit.js';
import { AccessDenied, OAuthError, ServerError, TemporarilyUnavailable } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import type { ActClaim } from '../oauth/claims.js';
import type { IssuanceDecider, TokenResponse } from './issuance.js';
import type { PolicyAction } from '../policy/policy-engine.js';

export interface SecretReleaseRequest {
  app: Application;
  /** `client:<client_id>` for autonomous requests, the user's id otherwise. */
  subject: string;
  userId: string | null;
  resource: Resource;
  /** The issuance method Cedar decides on, as for a token (issue 5 item 1: every issuance). */
  policyAction: PolicyAction;
  transport: 'tcp' | 'socket';
  /** The chain the request continues (token exchange), for the policy's `actors` and depth. */
  act?: ActClaim | undefined;
  delegationDepth?: number | undefined;
  grantType: string;
  trustLevel: TrustLevel;
  /** The scopes asked for and allowed; recorded, never echoed: the secret's power is not Latchkey's to narrow. */
  scopes: readonly string[];
  auditDetail?: Record<string, unknown>;
  auditReason?: string | undefined;
  /** Runs first inside the recording write (an actor assertion's jti, a background grant still in force). */
  redeem?: (() => void) | undefined;
}

/**
 * Hands out a vaulted resource's static secret (issue 5 item 3) under the issuance rule (DESIGN.md §2):
 * the secret is read from the vault inside the group-commit write that appends its `secret.released`
 * audit row, and the response leaves only once that row is durable. The row names the client, resource,
 * grant and when the released secret was set (which version), never the value.
 *
 * The answer (RFC 8693 §2.2.1 shape): `access_token` = the secret, `issued_token_type` =
 * `urn:latchkey:params:oauth:token-type:static-secret`, `token_type` `N_A` (it is not a bearer token of
 * Latchkey's), no refresh token, no `scope`, and no `expires_in`: Latchkey does not know when a static
 * secret stops working, an advisory figure would be invented, and without one the agent client never
 * caches it (client/token-cache.ts), so every use is a fresh audited read that sees a rotation at once.
 * No `issued_tokens` row: there is no jti, so introspection answers `active: false` and revocation 200
 * for it (RFC 7662 §2.2, RFC 7009 §2.2); a static secret is ended by rotating it.
 */
export class SecretRelease {
  constructor(private readonly commit: GroupCommit, private readonly secrets: ResourceSecrets, private readonly audit: AuditLog, private readonly policy: IssuanceDecider) {}

  async release(request: SecretReleaseRequest): Promise<TokenResponse> {
    // Decided by Cedar like every token, before anything is read from the vault.
    const decision = this.policy.decide(request);
    const policy = { decision: decision.decision, policies: decision.policies };
    if (decision.decision !== 'allow') {
      throw new AccessDenied('the request is not permitted by policy', { reason: `policy denied ${request.policyAction}`, auditDetail: { policy, policy_action: request.policyAction } });
    }
    let secret: string | null = null;
    try {
      await this.commit.run(() => {
        request.redeem?.();
        secret = this.secrets.reveal(request.resource.identifier);
        if (secret === null) throw new TemporarilyUnavailable('the resource has no secret stored', { reason: 'vaulted resource without a vault item' });
        this.audit.append({
          event: 'secret.released',
          decision: 'allow',
          clientId: request.app.clientId,
          subject: request.subject,
          resource: request.resource.identifier,
          grantType: request.grantType,
          ...(request.auditReason ? { reason: request.auditReason } : {}),
          detail: {
            scope: request.scopes.join(' '),
            trust_level: request.trustLevel,
            secret_set_at: this.secrets.setAtOf(request.resource.identifier),
            policy, policy_action: request.policyAction,
            ...request.auditDetail,
          },
        });
      });
    } catch (error) {
      secret = null;
      if (error instanceof OAuthError) throw error;
      if (error instanceof VaultError) {
        throw new TemporarilyUnavailable('the broker cannot release this secret right now (vault locked or unreadable)', { reason: `secret not released: ${error.code}` });
      }
      // Fail closed (DESIGN.md §6): no audit row, no secret.
      throw new ServerError('the release could not be recorded', { reason: `release not recorded: ${(error as Error).message}` });
    }
    return { access_token: secret!, issued_token_type: TOKEN_TYPES.staticSecret, token_type: 'N_A' };
  }
}
