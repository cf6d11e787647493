import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import type { Application } from '../directory/applications.js';
import type { Resource } from '../directory/resources.js';
import type { Db } from '../store/database.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { TrustLevel } from '../../../shared/domain.js';
import { mintAccessToken } from './access-token.js';
import type { ActClaim } from '../oauth/claims.js';
import type { SigningKeys} from './signing-keys.js';
import { SigningKeyUnavailable } from './signing-keys.js';
import { AccessDenied, OAuthError, ServerError, TemporarilyUnavailable } from '../oauth/errors.js';
import type { IssuanceQuestion } from '../policy/issuance-policy.js';
import type { PolicyAction, PolicyDecision } from '../policy/policy-engine.js';

export interface AccessTokenRequest {
  app: Application;
  /** `client:<client_id>` for autonomous tokens, the user's id otherwise. */
  subject: string;
  userId: string | null;
  /** The audience: a resource, or Latchkey itself (its userinfo endpoint) for a user token without one. */
  resource: Pick<Resource, 'identifier' | 'tokenLifetime'>;
  scopes: readonly string[];
  grantType: string;
  trustLevel: TrustLevel;
  /** The issuance method Cedar decides on (`Action::"…"`). */
  policyAction: PolicyAction;
  /** The listener the request came in on (`context.transport` in policies). */
  transport: 'tcp' | 'socket';
  /** What the audit row should say beyond the token itself (e.g. which API key). Never a secret. */
  auditDetail?: Record<string, unknown>;
  /** Why, when the grant type alone does not say (impersonation). */
  auditReason?: string | undefined;
  /** The token family of a user's authorization: revoking the family revokes this token. */
  familyId?: string | undefined;
  /** A refresh token issued with this access token; its hash is stored by `redeem`. */
  refreshToken?: string | undefined;
  /** Mints the ID token that travels with this access token (it needs the access token for at_hash). */
  idToken?: ((accessToken: string) => string) | undefined;
  /**
   * Runs first inside the recording transaction: spends the code or refresh token this is issued for,
   * stores a new refresh token. If it throws, nothing is recorded and nothing is issued.
   */
  redeem?: (() => void) | undefined;
  /** Token exchange (RFC 8693 §4.1): the actors, most recent outermost, and how many exchanges led here. */
  act?: ActClaim | undefined;
  delegationDepth?: number | undefined;
  /** The token this one was exchanged from: revoking that one revokes this one (issue 4 item 1). */
  parentJti?: string | undefined;
  /** The latest `exp` this token may have (epoch seconds): a token exchanged never outlives its subject token. */
  notAfter?: number | undefined;
  /** RFC 8693 §2.2.1: answered as `issued_token_type`. */
  issuedTokenType?: string | undefined;
}

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1 for issued_token_type). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'N_A';
  /** Absent for a static secret: Latchkey does not know its lifetime (tokens/secret-release.ts). */
  expires_in?: number;
  scope?: string;
  issued_token_type?: string;
  refresh_token?: string;
  id_token?: string;
}

/** The `sub` of a token with no user: namespaced so it can never equal a user id (`usr_…`). */
/** The policy decision point Issuance asks before every issuance (policy/issuance-policy.ts). */
export interface IssuanceDecider {
  decide(question: IssuanceQuestion): PolicyDecision;
}

export const autonomousSubject = (clientId: string): string => `client:${clientId}`;

/**
 * Mints access tokens. Every token is recorded (for introspection and revocation) together with its
 * audit row in one transaction; if either cannot be written, the token is never handed out.
 */
export class Issuance {
  private readonly insertToken;

  constructor(
    db: Db,
    private readonly commit: GroupCommit,
    private readonly keys: SigningKeys,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly issuer: () => string,
    private readonly policy: IssuanceDecider,
  ) {
    this.insertToken = db.prepare(
      `INSERT INTO issued_tokens (jti, client_id, subject, user_id, audience, scope, grant_type, issued_at, expires_at, family_id, parent_jti)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  async issueAccessToken(request: AccessTokenRequest): Promise<TokenResponse> {
    const { app, resource } = request;
    const scope = request.scopes.join(' ');
    // Issue 5 item 1: every issuance is decided by Cedar, after the grant's own checks and before anything is
    // minted or spent. A denial names no policy to the client; the refusal row says which ones decided.
    const decision = this.policy.decide(request);
    const policy = { decision: decision.decision, policies: decision.policies };
    if (decision.decision !== 'allow') {
      throw new AccessDenied('the request is not permitted by policy', { reason: `policy denied ${request.policyAction}`, auditDetail: { policy, policy_action: request.policyAction } });
    }
    let minted;
    let idToken: string | undefined;
    // One reading of the clock for iat and for the cap: read twice, a second could pass in between.
    const now = epochSeconds(this.clock);
    try {
      minted = mintAccessToken(this.keys, this.issuer(), {
        sub: request.subject,
        aud: resource.identifier,
        client_id: app.clientId,
        scope: scope || undefined,
        grant_type: request.grantType,
        identity_type: app.identityType,
        sub_type: app.subType ?? undefined,
        trust_level: request.trustLevel,
        act: request.act,
        delegation_depth: request.delegationDepth,
      }, now, request.notAfter === undefined ? resource.tokenLifetime : Math.max(1, Math.min(resource.tokenLifetime, request.notAfter - now)));
      if (request.idToken) idToken = request.idToken(minted.token);
    } catch (error) {
      if (error instanceof SigningKeyUnavailable) throw new TemporarilyUnavailable('the broker cannot issue tokens right now (vault locked or signing key unavailable)', { reason: error.message });
      throw error;
    }
    try {
      // Committed with whatever else is being issued in this turn of the event loop; awaited, so the
      // response leaves only once the token record and its audit row are on disk. `redeem` runs in this
      // write's own savepoint: if it throws, only this write rolls back.
      await this.commit.run(() => {
        request.redeem?.();
        this.insertToken.run(minted.jti, app.clientId, request.subject, request.userId, resource.identifier, scope, request.grantType, minted.iat, minted.exp, request.familyId ?? null, request.parentJti ?? null);
        this.audit.append({
          event: 'token.issued',
          decision: 'allow',
          clientId: app.clientId,
          subject: request.subject,
          resource: resource.identifier,
          grantType: request.grantType,
          jti: minted.jti,
          ...(request.auditReason ? { reason: request.auditReason } : {}),
          detail: {
            scope, trust_level: request.trustLevel, expires_at: minted.exp,
            ...(request.familyId ? { family_id: request.familyId, refresh_token: request.refreshToken !== undefined, id_token: idToken !== undefined } : {}),
            ...request.auditDetail,
            policy, policy_action: request.policyAction,
          },
        });
      });
    } catch (error) {
      // The code or refresh token was not the caller's to spend after all (another request spent it).
      if (error instanceof OAuthError) throw error;
      // Fail closed (DESIGN.md §6): no record, no token.
      throw new ServerError('the token could not be recorded', { reason: `issuance not recorded: ${(error as Error).message}` });
    }
    return {
      access_token: minted.token,
      ...(request.issuedTokenType !== undefined ? { issued_token_type: request.issuedTokenType } : {}),
      token_type: 'Bearer',
      expires_in: minted.exp - minted.iat,
      ...(scope ? { scope } : {}),
      ...(request.refreshToken !== undefined ? { refresh_token: request.refreshToken } : {}),
      ...(idToken !== undefined ? { id_token: idToken } : {}),
    };
  }
}
