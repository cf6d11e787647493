import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Clock } from '../../clock.js';
import type { Consents } from '../../consent/consents.js';
import type { Users } from '../../directory/users.js';
import type { TokenResponse } from '../../tokens/issuance.js';
import type { TokenFamilies } from '../../tokens/token-families.js';
import type { AuthorizationCodes, StoredCode } from '../authorization-codes.js';
import { InvalidClient, InvalidGrant, InvalidRequest } from '../../oauth/errors.js';
import { isWellFormedVerifier, verifierMatches } from '../pkce.js';
import type { GrantContext, GrantHandler } from './grant.js';
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
  readonly authenticatesItself = false;

  constructor(
    private readonly codes: AuthorizationCodes,
    private readonly tokens: UserTokens,
    private readonly families: TokenFamilies,
    private readonly consents: Consents,
    private readonly users: Users,
    private readonly audit: AuditLog,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly clock: Clock,
  ) {}

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    if (!client) throw new InvalidClient('client authentication is required');
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
    if (code.expiresAt <= this.clock.now()) throw badCode('code expired');
    const redirectUri = params.get('redirect_uri');
    if ((redirectUri !== undefined || code.redirectUriGiven) && redirectUri !== code.redirectUri) throw badCode('redirect_uri does not match the authorization request');
    const verifier = params.get('code_verifier');
    if (verifier === undefined) throw new InvalidRequest('code_verifier is required (PKCE)');
    if (!isWellFormedVerifier(verifier) || !verifierMatches(verifier, code.codeChallenge)) throw new InvalidGrant('PKCE verification failed', { reason: 'code_verifier does not match the code_challenge' });
    if (!this.consents.isActive(code.consentId)) throw badCode('consent withdrawn');
    if (!this.users.get(code.userId)?.enabled) throw badCode('user disabled');

    const authorization = { userId: code.userId, consentId: code.consentId, scopes: code.scopes, resources: code.resources, authTime: code.authTime, nonce: code.nonce };
    const audience = this.tokens.audience(authorization, params);
    try {
      return await this.tokens.issue(client, this.grantType, transport, authorization, audience, (familyId) => {
        if (!this.codes.spend(code.codeHash, familyId)) throw new CodeSpentMeanwhile('the authorization code is invalid, expired or already used', { reason: 'code spent by a concurrent request' });
      });
    } catch (error) {
      if (error instanceof CodeSpentMeanwhile) this.revokeWhatItIssued({ ...code, familyId: this.codes.familyOf(code.codeHash) });
      throw error;
    }
  }

  /** OAuth 2.1 §4.1.3: a code used twice revokes the tokens issued for it. */
  private revokeWhatItIssued(code: StoredCode): void {
    if (!code.familyId) return;
    const familyId = code.familyId;
    try {
      this.transaction(() => {
        const result = this.families.revoke(familyId, 'authorization code presented again');
        this.audit.append({ event: 'token.family_revoked', decision: 'deny', clientId: code.clientId, subject: code.userId, grantType: this.grantType,
          reason: 'authorization code presented again', detail: { family_id: familyId, access_tokens: result.accessTokens } });
      });
    } catch {
      // The request is refused either way; a failed revocation is retried by the next replay.
    }
  }
}
