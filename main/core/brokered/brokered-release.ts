import { TOKEN_TYPES } from '../../../shared/domain.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { GroupCommit } from '../store/group-commit.js';
import { AccessDenied, InvalidTarget, OAuthError, ServerError } from '../oauth/errors.js';
import type { IssuanceDecider, TokenResponse } from '../tokens/issuance.js';
import type { SecretReleaseRequest } from '../tokens/secret-release.js';
import type { Providers } from './providers.js';
import type { UpstreamTokens } from './upstream-tokens.js';

/**
 * What a vaulted secret's release takes (subject, resource, policy inputs, audit, redeem), plus what travels with
 * a user's authorization. `subject` is always the user's id here: brokered access is for a user's own account.
 */
export interface BrokeredReleaseRequest extends SecretReleaseRequest {
  /** The token family of a user's authorization (code, refresh), and the refresh token issued with this answer. */
  familyId?: string | undefined;
  refreshToken?: string | undefined;
  /** The ID token that travels with the answer (its at_hash is of the upstream access token handed out). */
  idToken?: ((accessToken: string) => string) | undefined;
}

/**
 * Hands an authorized application the user's upstream access token for a brokered resource (issue 5 item 4),
 * mirroring tokens/secret-release.ts: Cedar decides first, like every issuance; then the upstream token
 * (cached, or refreshed upstream, brokered/upstream-tokens.ts); then the `brokered.released` audit row (client,
 * provider, resource, grant; never a token) is written in the group-commit write that also spends what the
 * answer is issued for, and the answer leaves once that write is durable.
 *
 * The answer (RFC 8693 §2.2.1 shape): `access_token` = the provider's, `issued_token_type` the access-token
 * type, `token_type` Bearer, `expires_in` = what is left of the provider's, plus Latchkey's own refresh token
 * (and ID token) when the grant issues them. No `issued_tokens` row: the token is the provider's, not
 * Latchkey's (introspection answers `active: false` for it); disconnecting the account ends it.
 */
export class BrokeredRelease {
  constructor(
    private readonly commit: GroupCommit,
    private readonly providers: Providers,
    private readonly upstream: UpstreamTokens,
    private readonly audit: AuditLog,
    private readonly policy: IssuanceDecider,
    private readonly clock: Clock,
  ) {}

  async release(request: BrokeredReleaseRequest): Promise<TokenResponse> {
    // Only a user's own upstream account can be used: with no user there is no account to act with. RFC 8707 §2
    // makes a resource the server will not issue for, to this request, `invalid_target`.
    if (request.userId === null) throw new InvalidTarget('a brokered resource is reached only for a user (user delegation, a chain that started with one, or impersonation)', { reason: 'brokered resource asked for without a user' });
    const decision = this.policy.decide(request);
    const policy = { decision: decision.decision, policies: decision.policies };
    if (decision.decision !== 'allow') {
      throw new AccessDenied('the request is not permitted by policy', { reason: `policy denied ${request.policyAction}`, auditDetail: { policy, policy_action: request.policyAction } });
    }
    const provider = request.resource.providerId === null ? null : this.providers.get(request.resource.providerId);
    if (!provider) throw new ServerError('the resource names no provider', { reason: 'brokered resource without a provider' });
    const upstream = await this.upstream.accessToken(provider, request.userId);
    let idToken: string | undefined;
    try {
      if (request.idToken) idToken = request.idToken(upstream.token);
      await this.commit.run(() => {
        request.redeem?.();
        this.audit.append({
          event: 'brokered.released',
          decision: 'allow',
          clientId: request.app.clientId,
          subject: request.subject,
          resource: request.resource.identifier,
          grantType: request.grantType,
          ...(request.auditReason ? { reason: request.auditReason } : {}),
          detail: {
            provider_id: provider.id,
            scope: request.scopes.join(' '),
            upstream_scopes: request.resource.upstreamScopes.join(' '),
            trust_level: request.trustLevel,
            upstream_expires_at: upstream.expiresAt,
            ...(request.familyId ? { family_id: request.familyId, refresh_token: request.refreshToken !== undefined, id_token: idToken !== undefined } : {}),
            policy, policy_action: request.policyAction,
            ...request.auditDetail,
          },
        });
      });
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      // Fail closed (DESIGN.md §6): no audit row, no token.
      throw new ServerError('the release could not be recorded', { reason: `brokered release not recorded: ${(error as Error).message}` });
    }
    const expiresIn = upstream.expiresAt === null ? undefined : Math.max(0, Math.floor((upstream.expiresAt - this.clock.now()) / 1000));
    return {
      access_token: upstream.token,
      issued_token_type: TOKEN_TYPES.accessToken,
      token_type: 'Bearer',
      ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
      ...(request.refreshToken !== undefined ? { refresh_token: request.refreshToken } : {}),
      ...(idToken !== undefined ? { id_token: idToken } : {}),
    };
  }
}
