import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import type { Resources } from '../../directory/resources.js';
import { mintIdToken } from '../../tokens/id-token.js';
import type { AccessTokenRequest, Issuance, TokenResponse } from '../../tokens/issuance.js';
import type { BrokeredRelease } from '../../brokered/brokered-release.js';
import type { SigningKeys } from '../../tokens/signing-keys.js';
import type { TokenFamilies } from '../../tokens/token-families.js';
import type { AuthenticatedClient } from '../client-auth.js';
import { InvalidTarget } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { scopesFor, userAudience, type UserAudience } from '../user-audience.js';

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
 * The first tokens of a user's authorization: a new token family, an access token for one of the approved
 * resources, a refresh token when the client is registered for refresh_token, an ID token when `openid` was
 * approved. Shared by the grants that redeem an approval once (authorization code, CIBA).
 */
export class UserTokens {
  constructor(
    private readonly families: TokenFamilies,
    private readonly resources: Resources,
    private readonly keys: SigningKeys,
    private readonly issuance: Issuance,
    private readonly brokered: BrokeredRelease,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  /** RFC 8707 §2.2: the token request may pick one of the authorized resources; each token has one audience. */
  audience(authorization: UserAuthorization, params: Params): UserAudience {
    const asked = params.all('resource');
    if (asked.length > 1) throw new InvalidTarget('ask for one resource per token');
    let identifier: string | null;
    if (asked[0] !== undefined) {
      if (!authorization.resources.includes(asked[0])) throw new InvalidTarget('the resource was not part of the authorization');
      identifier = asked[0];
    } else {
      if (authorization.resources.length > 1) throw new InvalidTarget('the authorization covers several resources: name one with the resource parameter');
      identifier = authorization.resources[0] ?? null;
    }
    const audience = userAudience(identifier, this.issuer(), this.resources);
    if (!audience) throw new InvalidTarget('the resource no longer exists');
    return audience;
  }

  /**
   * Issues, starting the family inside the issuing write. `spend` runs there too, first: it spends what the
   * tokens are issued for (the code, the approved request) and throws if another request spent it already.
   */
  issue(client: AuthenticatedClient, grantType: string, transport: 'tcp' | 'socket', authorization: UserAuthorization, audience: UserAudience, spend: (familyId: string) => void): Promise<TokenResponse> {
    const familyId = this.families.newId();
    const refresh = client.app.grantTypes.includes(GRANT_TYPES.refreshToken) ? this.families.newRefreshToken(familyId) : null;
    const { userId } = authorization;
    const request: AccessTokenRequest = {
      app: client.app,
      subject: userId,
      userId,
      resource: audience,
      scopes: scopesFor(audience, authorization.scopes),
      grantType,
      trustLevel: client.trustLevel,
      // The user approved it, on the consent page or through a backchannel approval: user delegation.
      policyAction: 'user_delegation',
      transport,
      familyId,
      refreshToken: refresh?.token,
      idToken: authorization.scopes.includes('openid')
        ? (accessToken) => mintIdToken(this.keys, this.issuer(), { sub: userId, clientId: client.app.clientId, authTime: Math.floor(authorization.authTime / 1000), nonce: authorization.nonce, alg: client.app.idTokenAlg }, accessToken, epochSeconds(this.clock))
        : undefined,
      redeem: () => {
        this.families.create(familyId, { clientId: client.app.clientId, userId, consentId: authorization.consentId, scopes: authorization.scopes, resources: authorization.resources, authTime: authorization.authTime });
        spend(familyId);
        refresh?.record();
      },
    };
    // A brokered resource (issue 5 item 4): the user's upstream access token, with Latchkey's refresh token as usual.
    const brokered = this.resources.get(audience.identifier);
    if (brokered?.credentialType === 'brokered') return this.brokered.release({ ...request, resource: brokered });
    return this.issuance.issueAccessToken(request);
  }
}
