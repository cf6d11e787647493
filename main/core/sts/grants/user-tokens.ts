import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Issuance } from '../../tokens/credential-issuer.js';
import type { TokenFamilies } from '../../tokens/token-families.js';
import type { TargetResolver } from '../targets.js';
import type { TokenContext } from './grant.js';

/** What the user approved, whichever way they approved it (consent page, backchannel approval). */
export interface UserAuthorization {
  userId: string;
  consentId: string;
  scopes: readonly string[];
  resources: readonly string[];
  /** When the user acted (epoch ms), for the ID token's auth_time. */
  authTime: number;
  nonce: string | null;
}

/**
 * The first credentials of a user's authorization: a new token family, a credential for one of the approved
 * resources, a refresh token when the client is registered for refresh_token, an ID token when `openid` was
 * approved. Shared by the grants that redeem an approval once (authorization code, CIBA).
 */
export class UserTokens {
  constructor(private readonly families: TokenFamilies, private readonly targets: TargetResolver) {}

  /**
   * The family starts inside the issuing write. `spend` runs there too, first: it spends what the credentials
   * are issued for (the code, the approved request) and throws if another request spent it already.
   */
  issuance(context: TokenContext, authorization: UserAuthorization, spend: (familyId: string) => void): Issuance {
    const { app } = context.client;
    const target = this.targets.user(app, authorization, context.params, context.issuer);
    const familyId = this.families.newId();
    const refresh = app.grantTypes.includes(GRANT_TYPES.refreshToken) ? this.families.newRefreshToken(familyId) : null;
    const { userId } = authorization;
    return {
      ...target,
      subject: userId,
      userId,
      // The user approved it, on the consent page or through a backchannel approval: user delegation.
      policyAction: 'user_delegation',
      family: {
        id: familyId,
        refreshToken: refresh?.token,
        idToken: authorization.scopes.includes('openid') ? { authTime: Math.floor(authorization.authTime / 1000), nonce: authorization.nonce } : undefined,
      },
      spend: () => {
        this.families.create(familyId, { clientId: app.clientId, userId, consentId: authorization.consentId, scopes: authorization.scopes, resources: authorization.resources, authTime: authorization.authTime });
        spend(familyId);
        refresh?.record();
      },
    };
  }
}
