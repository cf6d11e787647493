import { verifyAccessToken, type AccessTokenPayload } from './access-token.js';
import type { IssuedTokens, TokenState } from './issued-tokens.js';
import type { SigningKeys } from './signing-keys.js';

/**
 * Presented access tokens, checked the one way every reader needs (introspection, userinfo, token exchange's
 * subject and actor tokens): Latchkey's own signature, issuer and expiry, then the token's state in its record.
 */
export class LiveAccessTokens {
  constructor(private readonly keys: SigningKeys, private readonly issued: IssuedTokens) {}

  /** Null when the value is not a valid, unexpired Latchkey access token at all; else its claims and state. */
  async verify(token: string, issuer: string, nowSeconds: number): Promise<{ payload: AccessTokenPayload; state: TokenState } | null> {
    const payload = await verifyAccessToken(this.keys, issuer, token, nowSeconds);
    return payload ? { payload, state: this.issued.state(payload.jti, payload.client_id) } : null;
  }
}
