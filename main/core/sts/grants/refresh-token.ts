import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Consents } from '../../consent/consents.js';
import type { Users } from '../../directory/users.js';
import { InvalidGrant, InvalidRequest } from '../../oauth/errors.js';
import type { Issuance } from '../../tokens/credential-issuer.js';
import type { FamilyRevocation } from '../../tokens/family-revocation.js';
import { ROTATION_RACE_WINDOW_MS, type TokenFamilies } from '../../tokens/token-families.js';
import type { TargetResolver } from '../targets.js';
import type { GrantHandler, TokenContext } from './grant.js';

/** One answer for every refresh token that cannot be used. */
const badToken = (reason: string): InvalidGrant => new InvalidGrant('the refresh token is invalid, expired or revoked', { reason });

/**
 * The refresh token grant (OAuth 2.1 §4.3) with rotation on every use (§4.3.1): the presented token is
 * spent in the transaction that records its successor, by a conditional UPDATE, so of two requests
 * presenting one token exactly one succeeds. A spent token presented again revokes the whole family.
 *
 * A rotated token presented within ROTATION_RACE_WINDOW_MS of its rotation lost a race with a refresh
 * that overlapped it (a client refreshing from two places at once): it is refused, and the family, with
 * the winner's tokens, stays alive. A thief gains nothing by racing: the legitimate client's next refresh
 * presents a rotated token and ends the family.
 *
 * RFC 8707 §2.2: the same authorization may buy a credential for another resource the user consented to,
 * a brokered one included (the user's upstream token, with the successor refresh token).
 */
export class RefreshTokenGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.refreshToken;
  readonly parameters = new Set(['refresh_token', 'scope', 'resource']);

  constructor(
    private readonly families: TokenFamilies,
    private readonly consents: Consents,
    private readonly users: Users,
    private readonly targets: TargetResolver,
    private readonly replays: FamilyRevocation,
  ) {}

  async handle(context: TokenContext): Promise<Issuance> {
    const { client, params } = context;
    const presented = params.get('refresh_token');
    if (presented === undefined) throw new InvalidRequest('refresh_token is required');
    const found = this.families.find(presented);
    if (found.state === 'unknown') throw badToken('unknown refresh token');
    const { family } = found;
    // Bound to its client (OAuth 2.1 §4.3.1); another client's attempt leaves it alone.
    if (family.clientId !== client.app.clientId) throw badToken('refresh token issued to another client');
    if (family.revokedAt !== null) throw badToken('token family revoked');
    if (found.state === 'rotated') {
      if (context.now - found.rotatedAt < ROTATION_RACE_WINDOW_MS) throw badToken('refresh token rotated moments ago by a concurrent request');
      this.replays.onReplay(family, this.grantType, 'rotated refresh token presented again');
      throw badToken('rotated refresh token presented again');
    }
    if (found.state === 'expired') throw badToken('refresh token expired');
    if (!this.consents.isActive(family.consentId)) throw badToken('consent withdrawn');
    if (!this.users.get(family.userId)?.enabled) throw badToken('user disabled');

    const target = this.targets.user(client.app, family, params, context.issuer);
    const successor = this.families.newRefreshToken(family.id);
    return {
      ...target,
      subject: family.userId,
      userId: family.userId,
      policyAction: 'refresh',
      // OIDC Core §12.2: a refreshed ID token keeps sub and auth_time and carries no nonce.
      family: { id: family.id, refreshToken: successor.token, idToken: family.scopes.includes('openid') ? { authTime: Math.floor(family.authTime / 1000), nonce: null } : undefined },
      spend: () => {
        // Another request spent it between our read and this write: it overlapped us, so no replay.
        if (!this.families.spend(found.tokenHash)) throw badToken('refresh token rotated by a concurrent request');
        // A family revoked while this request was signing (a replay, a withdrawn consent) issues nothing.
        if (this.families.get(family.id)?.revokedAt !== null) throw badToken('token family revoked');
        successor.record();
      },
    };
  }
}
