import { GRANT_TYPES, isScopeToken } from '../../../../shared/domain.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import type { Consents } from '../../consent/consents.js';
import type { Applications } from '../../directory/applications.js';
import type { Resources } from '../../directory/resources.js';
import type { Users } from '../../directory/users.js';
import { mintIdToken } from '../../tokens/id-token.js';
import type { AccessTokenRequest, Issuance, TokenResponse } from '../../tokens/issuance.js';
import type { BrokeredRelease } from '../../brokered/brokered-release.js';
import type { SigningKeys } from '../../tokens/signing-keys.js';
import { ROTATION_RACE_WINDOW_MS, type TokenFamilies, type TokenFamily } from '../../tokens/token-families.js';
import { InvalidClient, InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget } from '../../oauth/errors.js';
import { scopesFor, userAudience } from '../user-audience.js';
import type { GrantContext, GrantHandler } from './grant.js';

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
 */
export class RefreshTokenGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.refreshToken;
  readonly parameters = new Set(['refresh_token', 'scope', 'resource']);
  readonly authenticatesItself = false;

  constructor(
    private readonly families: TokenFamilies,
    private readonly consents: Consents,
    private readonly users: Users,
    private readonly applications: Applications,
    private readonly resources: Resources,
    private readonly keys: SigningKeys,
    private readonly issuance: Issuance,
    private readonly brokered: BrokeredRelease,
    private readonly audit: AuditLog,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    if (!client) throw new InvalidClient('client authentication is required');
    const presented = params.get('refresh_token');
    if (presented === undefined) throw new InvalidRequest('refresh_token is required');
    const found = this.families.find(presented);
    if (found.state === 'unknown') throw badToken('unknown refresh token');
    const { family } = found;
    // Bound to its client (OAuth 2.1 §4.3.1); another client's attempt leaves it alone.
    if (family.clientId !== client.app.clientId) throw badToken('refresh token issued to another client');
    if (family.revokedAt !== null) throw badToken('token family revoked');
    if (found.state === 'rotated') {
      if (this.clock.now() - found.rotatedAt < ROTATION_RACE_WINDOW_MS) throw badToken('refresh token rotated moments ago by a concurrent request');
      this.revokeFamily(family, 'rotated refresh token presented again');
      throw badToken('rotated refresh token presented again');
    }
    if (found.state === 'expired') throw badToken('refresh token expired');
    if (!this.consents.isActive(family.consentId)) throw badToken('consent withdrawn');
    if (!this.users.get(family.userId)?.enabled) throw badToken('user disabled');

    // RFC 6749 §6: scope may only narrow; the refresh token itself keeps the full grant.
    const scopeParam = params.get('scope');
    const scopes = scopeParam === undefined ? family.scopes : [...new Set(scopeParam.split(' ').filter(Boolean))];
    for (const scope of scopes) {
      if (!isScopeToken(scope)) throw new InvalidScope('malformed scope');
      if (!family.scopes.includes(scope)) throw new InvalidScope('the scope exceeds what was granted', { reason: `scope not granted: ${scope.slice(0, 100)}` });
    }
    // RFC 8707 §2.2: the same authorization may buy a token for another resource the user consented to.
    const asked = params.all('resource');
    if (asked.length > 1) throw new InvalidTarget('ask for one resource per token');
    let identifier: string | null;
    if (asked[0] !== undefined) {
      if (!family.resources.includes(asked[0])) throw new InvalidTarget('the user did not consent to this resource for this client', { reason: 'resource outside the grant' });
      identifier = asked[0];
    } else {
      if (family.resources.length > 1) throw new InvalidTarget('the authorization covers several resources: name one with the resource parameter');
      identifier = family.resources[0] ?? null;
    }
    const audience = userAudience(identifier, this.issuer(), this.resources);
    if (!audience) throw new InvalidTarget('the resource no longer exists');
    // The consent outlives the admin's changes, but never widens them (issue 6 item 1): a resource the
    // application no longer depends on is not reached (RFC 8707 §2.2), and only scopes it may still have
    // are issued. A self-registered client has no dependencies: the user's consent is all it has.
    const app = client.app;
    if (identifier !== null && app.registration === 'admin' && !this.applications.hasDependency(app.clientId, identifier)) {
      throw new InvalidTarget('the resource is unknown or not available to this client', { reason: 'resource is no longer a dependency of the client' });
    }
    const mayHave = (scope: string) => app.registration === 'dynamic' || app.scopes === null || app.scopes.includes(scope) || !audience.scopes.includes(scope);
    if (scopeParam !== undefined) {
      for (const scope of scopes) {
        if (!mayHave(scope)) throw new InvalidScope('the scope exceeds what the client may have', { reason: `scope no longer allowed: ${scope.slice(0, 100)}` });
      }
    }

    const successor = this.families.newRefreshToken(family.id);
    const request: AccessTokenRequest = {
      app: client.app,
      subject: family.userId,
      userId: family.userId,
      resource: audience,
      scopes: scopesFor(audience, scopes).filter(mayHave),
      grantType: this.grantType,
      trustLevel: client.trustLevel,
      policyAction: 'refresh',
      transport,
      familyId: family.id,
      refreshToken: successor.token,
      // OIDC Core §12.2: a refreshed ID token keeps sub and auth_time and carries no nonce.
      idToken: family.scopes.includes('openid')
        ? (accessToken) => mintIdToken(this.keys, this.issuer(), { sub: family.userId, clientId: client.app.clientId, authTime: Math.floor(family.authTime / 1000), nonce: null, alg: client.app.idTokenAlg }, accessToken, epochSeconds(this.clock))
        : undefined,
      redeem: () => {
        // Another request spent it between our read and this write: it overlapped us, so no replay.
        if (!this.families.spend(found.tokenHash)) throw badToken('refresh token rotated by a concurrent request');
        // A family revoked while this request was signing (a replay, a withdrawn consent) issues nothing.
        if (this.families.get(family.id)?.revokedAt !== null) throw badToken('token family revoked');
        successor.record();
      },
    };
    // RFC 8707 §2.2 with a brokered resource (issue 5 item 4): the user's upstream access token, and the successor.
    const brokered = this.resources.get(audience.identifier);
    if (brokered?.credentialType === 'brokered') return this.brokered.release({ ...request, resource: brokered });
    return this.issuance.issueAccessToken(request);
  }

  private revokeFamily(family: TokenFamily, why: string): void {
    try {
      this.transaction(() => {
        const result = this.families.revoke(family.id, why);
        this.audit.append({ event: 'token.family_revoked', decision: 'deny', clientId: family.clientId, subject: family.userId, grantType: this.grantType,
          reason: why, detail: { family_id: family.id, access_tokens: result.accessTokens } });
      });
    } catch {
      // The request is refused either way; the next replay tries again.
    }
  }
}
