import type { AuditLog } from '../../audit/audit-log.js';
import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import { verifyAccessToken } from '../../tokens/access-token.js';
import type { SigningKeys } from '../../tokens/signing-keys.js';
import type { IssuedTokens } from '../../tokens/issued-tokens.js';
import type { TokenFamilies } from '../../tokens/token-families.js';
import type { AuthenticatedClient, ClientAuthenticator } from '../client-auth.js';
import { InvalidClient, InvalidRequest, OAuthError, TemporarilyUnavailable } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';

/**
 * Token revocation (RFC 7009). The client authenticates (a public client by its client_id, §2.1) and
 * may revoke only its own tokens. An unknown or invalid token is answered with 200 (§2.2). If the
 * revocation cannot be stored, the answer is 503, never a 200 that would leave a live token behind.
 */
export class RevocationEndpoint {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly keys: SigningKeys,
    private readonly audit: AuditLog,
    private readonly refusals: RefusalRecorder,
    private readonly clock: Clock,
    private readonly issuer: () => string,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly families: TokenFamilies,
    private readonly issuedTokens: IssuedTokens,
  ) {}

  async handle(params: Params, authorization: string | undefined): Promise<void> {
    let caller: AuthenticatedClient | null = null;
    let jti: string | null = null;
    try {
      const duplicate = params.firstDuplicate(new Set());
      if (duplicate) throw new InvalidRequest(`parameter ${duplicate} was sent more than once`);
      caller = await this.clients.authenticate(authorization, params);
      if (!caller) throw new InvalidClient('client authentication is required');
      const token = params.get('token');
      if (token === undefined) throw new InvalidRequest('token is required');

      // Expired tokens are verified too: revoking one is harmless and says nothing.
      const payload = await verifyAccessToken(this.keys, this.issuer(), token, 0);
      if (!payload) {
        this.revokeRefreshToken(caller, token);
        return;
      }
      jti = payload.jti;
      this.revokeOwn(caller, payload.jti);
    } catch (error) {
      if (error instanceof OAuthError) this.refusals.record({ event: 'token.revocation_refused', clientId: caller?.app.clientId ?? params.get('client_id'), jti }, error);
      throw error;
    }
  }

  private revokeOwn(caller: AuthenticatedClient, jti: string): void {
    const token = this.issuedTokens.find(jti);
    if (!token) return;
    // §2.1: the server verifies the token was issued to the requesting client; if not, the request is refused.
    if (token.clientId !== caller.app.clientId) throw new InvalidRequest('the token was not issued to this client', { reason: 'token belongs to another client' });
    if (token.revokedAt !== null) return;
    try {
      this.transaction(() => {
        // The tokens exchanged from this one (and from those) go with it (issue 4 item 1).
        const revoked = this.issuedTokens.revokeWithDerived(jti, epochSeconds(this.clock));
        this.audit.append({ event: 'token.revoked', decision: 'info', clientId: token.clientId, subject: token.subject, resource: token.audience, jti, reason: 'revoked by its client',
          detail: { derived_tokens: Math.max(0, revoked - 1) } });
      });
    } catch (error) {
      throw new TemporarilyUnavailable('the revocation could not be stored; try again', { reason: (error as Error).message });
    }
  }

  /**
   * RFC 7009 §2.1: a refresh token can be revoked too, and with it the access tokens of the same
   * authorization: the whole token family ends. Unknown values are answered 200 like any other.
   */
  private revokeRefreshToken(caller: AuthenticatedClient, token: string): void {
    const found = this.families.find(token);
    if (found.state === 'unknown') return;
    const { family } = found;
    if (family.clientId !== caller.app.clientId) throw new InvalidRequest('the token was not issued to this client', { reason: 'refresh token belongs to another client' });
    if (family.revokedAt !== null) return;
    try {
      this.transaction(() => {
        const result = this.families.revoke(family.id, 'refresh token revoked by its client');
        this.audit.append({ event: 'token.family_revoked', decision: 'info', clientId: family.clientId, subject: family.userId,
          reason: 'refresh token revoked by its client', detail: { family_id: family.id, access_tokens: result.accessTokens } });
      });
    } catch (error) {
      throw new TemporarilyUnavailable('the revocation could not be stored; try again', { reason: (error as Error).message });
    }
  }
}
