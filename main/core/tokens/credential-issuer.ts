import type { CredentialType, TrustLevel } from '../../../shared/domain.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Application } from '../directory/applications.js';
import type { Resource } from '../directory/resources.js';
import type { ActClaim } from '../oauth/claims.js';
import { AccessDenied, InvalidRequest, OAuthError, ServerError, TemporarilyUnavailable } from '../oauth/errors.js';
import type { IssuanceQuestion } from '../policy/issuance-policy.js';
import type { PolicyAction, PolicyDecision } from '../policy/policy-engine.js';
import type { GroupCommit } from '../store/group-commit.js';
import { mintIdToken } from './id-token.js';
import type { SigningKeys } from './signing-keys.js';
import { SigningKeyUnavailable } from './signing-keys.js';

/** What the issuer needs of a token request (the token endpoint's TokenContext is one). */
export interface IssueContext {
  client: { app: Application; trustLevel: TrustLevel };
  grantType: string;
  /** The listener the request came in on (`context.transport` in policies). */
  transport: 'tcp' | 'socket';
  /** One reading of the clock (epoch ms) for the whole request: iat, caps and expiries agree. */
  now: number;
  issuer: string;
}

/**
 * What a grant decided to issue. The grant says what; the issuer mints, records and answers, the same way
 * for every grant and every credential type.
 */
export interface Issuance {
  /** The audience: a resource (its credential type picks the kind), or Latchkey itself (`latchkeyAudience`). */
  resource: Resource;
  scopes: readonly string[];
  /** `client:<client_id>` for autonomous credentials, the user's id otherwise. */
  subject: string;
  userId: string | null;
  /** The issuance method Cedar decides on (`Action::"…"`). */
  policyAction: PolicyAction;
  /**
   * Token exchange (RFC 8693): the actors (most recent outermost) and how many exchanges led here, the token
   * this one is derived from, the latest `exp` it may have (it never outlives its subject token), and the
   * type the client asked for. Its answer names `issued_token_type` (§2.2.1).
   */
  chain?: { act: ActClaim; delegationDepth: number; parentJti: string | null; notAfter: number; requestedTokenType: string | undefined } | undefined;
  /**
   * The token family of a user's authorization (revoking it revokes this credential), the refresh token issued
   * with this answer, and the ID token's claims when one travels with it (its at_hash is of the credential).
   */
  family?: { id: string; refreshToken?: string | undefined; idToken?: { authTime: number; nonce: string | null } | undefined } | undefined;
  /**
   * Runs first inside the durable write: spends what this is issued for (a code, a refresh token, an assertion's
   * jti) and stores what comes with it. If it throws, nothing is recorded and nothing is issued.
   */
  spend?: (() => void) | undefined;
  /** Told of a refusal that came from the durable write (a code another request spent first). */
  onRefused?: ((error: OAuthError) => void) | undefined;
  audit?: {
    /** Why, when the grant type alone does not say (impersonation). */
    reason?: string | undefined;
    /** What the issuance row should say beyond the credential itself. Never a secret. */
    detail?: Record<string, unknown> | undefined;
    /** What a refusal's row should say if the issuer refuses (the chain of an exchange). */
    refusal?: Record<string, unknown> | undefined;
  } | undefined;
}

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1 for issued_token_type). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'N_A';
  /** Absent for a static secret: Latchkey does not know its lifetime. */
  expires_in?: number;
  scope?: string;
  issued_token_type?: string;
  refresh_token?: string;
  id_token?: string;
}

/** A credential made ready outside the durable write, by its kind. */
export interface PreparedCredential {
  readonly event: 'token.issued' | 'secret.released' | 'brokered.released';
  /** The Latchkey token's id, for the audit row. */
  readonly jti?: string | undefined;
  /** The access token an ID token's at_hash covers, when there is one to cover. */
  readonly accessToken?: string | undefined;
  /** Inside the durable write, after the spend: records what this kind records; returns its audit detail. */
  record(): Record<string, unknown>;
  /** The answer, without the refresh and ID tokens (the issuer adds those). */
  answer(): TokenResponse;
}

/**
 * One credential type's part in issuing (fosite's strategies): a Latchkey token, a vaulted secret, an upstream
 * token. A kind supplies the differences; it never decides whether to issue, nor writes the audit row.
 */
export interface CredentialKind {
  readonly credentialType: CredentialType;
  /** What `issued_token_type` says for it (RFC 8693 §3). */
  readonly issuedTokenType: string;
  /** Refuses, before policy is asked, what this kind can never be issued for. */
  admit?(issuance: Issuance): void;
  prepare(issuance: Issuance, context: IssueContext): Promise<PreparedCredential>;
}

/** The policy decision point the issuer asks before every issuance (policy/issuance-policy.ts). */
export interface IssuanceDecider {
  decide(question: IssuanceQuestion): PolicyDecision;
}

/** The `sub` of a credential with no user: namespaced so it can never equal a user id (`usr_…`). */
export const autonomousSubject = (clientId: string): string => `client:${clientId}`;

/**
 * The one copy of the issuing invariant (DESIGN.md §2, §6): policy decides → the kind prepares the credential
 * → one durable write spends what it is issued for, records it and appends its audit row → the answer leaves
 * once that write is on disk. Anything that fails fails closed: no record, no audit row, no credential.
 * The policy decision is written last into the row, so no grant's or kind's detail can overwrite it.
 */
export class CredentialIssuer {
  private readonly kinds: ReadonlyMap<CredentialType, CredentialKind>;

  constructor(
    kinds: readonly CredentialKind[],
    private readonly policy: IssuanceDecider,
    private readonly commit: GroupCommit,
    private readonly audit: AuditLog,
    private readonly keys: SigningKeys,
  ) {
    this.kinds = new Map(kinds.map((kind) => [kind.credentialType, kind]));
  }

  async issue(context: IssueContext, issuance: Issuance): Promise<TokenResponse> {
    try {
      return await this.run(context, issuance);
    } catch (error) {
      if (error instanceof OAuthError && issuance.audit?.refusal) error.auditDetail = { ...issuance.audit.refusal, ...error.auditDetail };
      throw error;
    }
  }

  private async run(context: IssueContext, issuance: Issuance): Promise<TokenResponse> {
    const { app } = context.client;
    const { resource, chain, family } = issuance;
    const kind = this.kinds.get(resource.credentialType);
    if (!kind) throw new ServerError('the resource\'s credential type cannot be issued', { reason: `no credential kind for ${resource.credentialType}` });
    // RFC 8693 §2.2.1: the server issues the type it can; asking for another one is a request it cannot honour.
    const requested = chain?.requestedTokenType;
    if (requested !== undefined && requested !== kind.issuedTokenType) throw new InvalidRequest(`this target's credential is ${kind.issuedTokenType} (requested_token_type)`);
    kind.admit?.(issuance);

    // Issue 5 item 1: every issuance is decided by Cedar, after the grant's own checks and before anything is
    // minted, read or spent. A denial names no policy to the client; the refusal row says which ones decided.
    const decision = this.policy.decide({
      app, userId: issuance.userId, resource, scopes: issuance.scopes, grantType: context.grantType, trustLevel: context.client.trustLevel,
      policyAction: issuance.policyAction, transport: context.transport, act: chain?.act, delegationDepth: chain?.delegationDepth,
    });
    const policy = { decision: decision.decision, policies: decision.policies };
    if (decision.decision !== 'allow') {
      throw new AccessDenied('the request is not permitted by policy', { reason: `policy denied ${issuance.policyAction}`, auditDetail: { policy, policy_action: issuance.policyAction } });
    }

    const prepared = await kind.prepare(issuance, context);
    const idToken = family?.idToken && prepared.accessToken !== undefined ? this.idToken(context, issuance.subject, family.idToken, prepared.accessToken) : undefined;
    try {
      // Committed with whatever else is being issued in this turn of the event loop; awaited, so the answer
      // leaves only once the record and its audit row are on disk. `spend` runs in this write's own savepoint:
      // if anything in it throws, only this write rolls back.
      await this.commit.run(() => {
        issuance.spend?.();
        const kindDetail = prepared.record();
        this.audit.append({
          event: prepared.event,
          decision: 'allow',
          clientId: app.clientId,
          subject: issuance.subject,
          resource: resource.identifier,
          grantType: context.grantType,
          ...(prepared.jti !== undefined ? { jti: prepared.jti } : {}),
          ...(issuance.audit?.reason ? { reason: issuance.audit.reason } : {}),
          detail: {
            scope: issuance.scopes.join(' '),
            trust_level: context.client.trustLevel,
            ...kindDetail,
            ...(family ? { family_id: family.id, refresh_token: family.refreshToken !== undefined, id_token: idToken !== undefined } : {}),
            ...issuance.audit?.detail,
            policy, policy_action: issuance.policyAction,
          },
        });
      });
    } catch (error) {
      if (error instanceof OAuthError) {
        // What was spent was not the caller's to spend after all (another request spent it first).
        issuance.onRefused?.(error);
        throw error;
      }
      // Fail closed (DESIGN.md §6): no record, no credential.
      throw new ServerError('the credential could not be recorded', { reason: `${prepared.event} not recorded: ${(error as Error).message}` });
    }
    return {
      ...prepared.answer(),
      ...(family?.refreshToken !== undefined ? { refresh_token: family.refreshToken } : {}),
      ...(idToken !== undefined ? { id_token: idToken } : {}),
    };
  }

  /** OIDC Core §3.1.3.6 (and §12.2 on refresh): the ID token that travels with an access token. */
  private idToken(context: IssueContext, sub: string, claims: { authTime: number; nonce: string | null }, accessToken: string): string {
    const { app } = context.client;
    try {
      return mintIdToken(this.keys, context.issuer, { sub, clientId: app.clientId, authTime: claims.authTime, nonce: claims.nonce, alg: app.idTokenAlg }, accessToken, Math.floor(context.now / 1000));
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/** A signing key the vault cannot give (locked, unreadable) is a state to wait out, not a server fault. */
export function unavailable(error: unknown): unknown {
  if (error instanceof SigningKeyUnavailable) return new TemporarilyUnavailable('the broker cannot issue tokens right now (vault locked or signing key unavailable)', { reason: error.message });
  return error;
}
