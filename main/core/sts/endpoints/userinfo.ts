import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import type { Users } from '../../directory/users.js';
import type { LiveAccessTokens } from '../../tokens/live-access-tokens.js';
import { OAuthError } from '../../oauth/errors.js';

const REALM = 'realm="latchkey"';

/** RFC 6750 §3: every refusal carries a Bearer challenge; §3.1 names the error when there was a token. */
const challenge = (status: number, error: string | null, description: string): OAuthError =>
  new OAuthError(error ?? 'invalid_request', status, description, {
    headers: { 'WWW-Authenticate': error ? `Bearer ${REALM}, error="${error}", error_description="${description}"` : `Bearer ${REALM}` },
    reason: description,
  });

export type UserInfo = { sub: string; name?: string; email?: string; email_verified?: boolean };

/**
 * The UserInfo endpoint (OIDC Core §5.3): a Bearer access token whose audience is Latchkey itself and
 * whose scope includes `openid`; claims by scope (§5.4): profile → name, email → email and email_verified.
 */
export class UserInfoEndpoint {
  constructor(
    private readonly tokens: LiveAccessTokens,
    private readonly users: Users,
    private readonly refusals: RefusalRecorder,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  async handle(authorization: string | undefined, tokenInQuery: boolean): Promise<UserInfo> {
    let clientId: string | null = null;
    try {
      // RFC 6750 §2.3: a token in the URI ends up in logs; the header only (§2.1).
      if (tokenInQuery) throw challenge(400, 'invalid_request', 'send the access token in the Authorization header');
      const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization ?? '');
      if (!match) {
        if (authorization === undefined) throw challenge(401, null, 'an access token is required');
        throw challenge(401, 'invalid_token', 'the access token is malformed');
      }
      const verified = await this.tokens.verify(match[1]!, this.issuer(), epochSeconds(this.clock));
      if (!verified) throw challenge(401, 'invalid_token', 'the access token is invalid or expired');
      const { payload, state } = verified;
      clientId = payload.client_id;
      // Live, and a user's own token: an autonomous token names no user to describe.
      if (!state.live || state.token.userId === null || state.token.userId !== payload.sub) throw challenge(401, 'invalid_token', 'the access token is invalid or revoked');
      // The token must be meant for Latchkey itself (RFC 9068 §4: the audience is checked by whoever accepts it).
      if (payload.aud !== this.issuer()) throw challenge(401, 'invalid_token', 'the access token is not meant for the userinfo endpoint');
      const scopes = (payload.scope ?? '').split(' ');
      if (!scopes.includes('openid')) throw challenge(403, 'insufficient_scope', 'the openid scope is required');
      const user = this.users.get(state.token.userId);
      if (!user) throw challenge(401, 'invalid_token', 'the access token is invalid or revoked');
      return {
        sub: user.id,
        ...(scopes.includes('profile') ? { name: user.name } : {}),
        // The owner typed their address at setup; Latchkey never verified it.
        ...(scopes.includes('email') ? { email: user.email, email_verified: false } : {}),
      };
    } catch (error) {
      if (error instanceof OAuthError) this.refusals.record({ event: 'userinfo.refused', clientId }, error);
      throw error;
    }
  }
}
