import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Consents } from '../../consent/consents.js';
import type { Users } from '../../directory/users.js';
import { InvalidGrant, InvalidRequest } from '../../oauth/errors.js';
import type { Issuance } from '../../tokens/credential-issuer.js';
import type { FamilyRevocation } from '../../tokens/family-revocation.js';
import type { AuthorizationCodes, StoredCode } from '../authorization-codes.js';
import { isWellFormedVerifier, verifierMatches } from '../pkce.js';
import type { GrantHandler, TokenContext } from './grant.js';
import type { UserTokens } from './user-tokens.js';

/** One answer for every code that cannot be redeemed, so the endpoint says nothing about other clients' codes. */
const badCode = (reason: string): InvalidGrant => new InvalidGrant('the authorization code is invalid, expired or already used', { reason });

/** Thrown inside the recording transaction when another request spent the code first. */
class CodeSpentMeanwhile extends InvalidGrant {}

/**
 * The authorization code grant (OAuth 2.1 §4.1.3) with PKCE (RFC 7636 §4.6). The code is bound to its
 * client, redirect URI, challenge, scopes, resources and user; it is spent in the transaction that records
 * what it buys. A code presented again revokes everything it issued (OAuth 2.1 §4.1.3).
 */
export class AuthorizationCodeGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.authorizationCode;
  readonly parameters = new Set(['code', 'redirect_uri', 'code_verifier', 'resource']);

  constructor(
    private readonly codes: AuthorizationCodes,
    private readonly tokens: UserTokens,
    private readonly consents: Consents,
    private readonly users: Users,
    private readonly replays: FamilyRevocation,
  ) {}

  async handle(context: TokenContext): Promise<Issuance> {
    const { client, params } = context;
    const presented = params.get('code');
    if (presented === undefined) throw new InvalidRequest('code is required');
    const code = this.codes.find(presented);
    if (!code) throw badCode('unknown code');
    // Another client's code: refused, and left alone (RFC 6749 §4.1.3: it was issued to someone else).
    if (code.clientId !== client.app.clientId) throw badCode('code issued to another client');
    if (code.redeemedAt !== null) {
      this.revokeWhatItIssued(code);
      throw badCode('code presented again');
    }
    if (code.expiresAt <= context.now) throw badCode('code expired');
    const redirectUri = params.get('redirect_uri');
    if ((redirectUri !== undefined || code.redirectUriGiven) && redirectUri !== code.redirectUri) throw badCode('redirect_uri does not match the authorization request');
    const verifier = params.get('code_verifier');
    if (verifier === undefined) throw new InvalidRequest('code_verifier is required (PKCE)');
    if (!isWellFormedVerifier(verifier) || !verifierMatches(verifier, code.codeChallenge)) throw new InvalidGrant('PKCE verification failed', { reason: 'code_verifier does not match the code_challenge' });
    if (!this.consents.isActive(code.consentId)) throw badCode('consent withdrawn');
    if (!this.users.get(code.userId)?.enabled) throw badCode('user disabled');

    const authorization = { userId: code.userId, consentId: code.consentId, scopes: code.scopes, resources: code.resources, authTime: code.authTime, nonce: code.nonce };
    return {
      ...this.tokens.issuance(context, authorization, (familyId) => {
        if (!this.codes.spend(code.codeHash, familyId)) throw new CodeSpentMeanwhile('the authorization code is invalid, expired or already used', { reason: 'code spent by a concurrent request' });
      }),
      onRefused: (error) => {
        if (error instanceof CodeSpentMeanwhile) this.revokeWhatItIssued({ ...code, familyId: this.codes.familyOf(code.codeHash) });
      },
    };
  }

  /** OAuth 2.1 §4.1.3: a code used twice revokes the tokens issued for it. */
  private revokeWhatItIssued(code: StoredCode): void {
    if (code.familyId) this.replays.onReplay({ id: code.familyId, clientId: code.clientId, userId: code.userId }, this.grantType, 'authorization code presented again');
  }
}
