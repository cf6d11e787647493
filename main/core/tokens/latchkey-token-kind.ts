import { TOKEN_TYPES } from '../../../shared/domain.js';
import { mintAccessToken } from './access-token.js';
import { unavailable, type CredentialKind, type IssueContext, type Issuance, type PreparedCredential } from './credential-issuer.js';
import type { IssuedTokens } from './issued-tokens.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * A Latchkey access token (RFC 9068, ES256, `aud` = the resource): signed outside the write, recorded in
 * `issued_tokens` inside it (for introspection and revocation, with its family and the token it was
 * exchanged from), answered as a Bearer token.
 */
export class LatchkeyTokenKind implements CredentialKind {
  readonly credentialType = 'token';
  readonly issuedTokenType = TOKEN_TYPES.accessToken;

  constructor(private readonly keys: SigningKeys, private readonly issued: IssuedTokens) {}

  async prepare(issuance: Issuance, context: IssueContext): Promise<PreparedCredential> {
    const { app } = context.client;
    const { resource, chain } = issuance;
    const scope = issuance.scopes.join(' ');
    // One reading of the clock for iat and for the cap: read twice, a second could pass in between.
    const now = Math.floor(context.now / 1000);
    const lifetime = chain === undefined ? resource.tokenLifetime : Math.max(1, Math.min(resource.tokenLifetime, chain.notAfter - now));
    let minted;
    try {
      minted = mintAccessToken(this.keys, context.issuer, {
        sub: issuance.subject,
        aud: resource.identifier,
        client_id: app.clientId,
        scope: scope || undefined,
        grant_type: context.grantType,
        identity_type: app.identityType,
        sub_type: app.subType ?? undefined,
        trust_level: context.client.trustLevel,
        act: chain?.act,
        delegation_depth: chain?.delegationDepth,
      }, now, lifetime);
    } catch (error) {
      throw unavailable(error);
    }
    return {
      event: 'token.issued',
      jti: minted.jti,
      accessToken: minted.token,
      record: () => {
        this.issued.record({
          jti: minted.jti, clientId: app.clientId, subject: issuance.subject, userId: issuance.userId, audience: resource.identifier, scope,
          grantType: context.grantType, issuedAt: minted.iat, expiresAt: minted.exp, familyId: issuance.family?.id ?? null, parentJti: chain?.parentJti ?? null,
        });
        return { expires_at: minted.exp };
      },
      answer: () => ({
        access_token: minted.token,
        ...(chain !== undefined ? { issued_token_type: this.issuedTokenType } : {}),
        token_type: 'Bearer',
        expires_in: minted.exp - minted.iat,
        ...(scope ? { scope } : {}),
      }),
    };
  }
}
