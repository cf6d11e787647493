import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import type { Applications } from '../../directory/applications.js';
import type { Users } from '../../directory/users.js';
import type { Db } from '../../store/database.js';
import { verifyAccessToken } from '../../tokens/access-token.js';
import type { SigningKeys } from '../../tokens/signing-keys.js';
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
  private readonly tokenRow;

  constructor(
    db: Db,
    private readonly keys: SigningKeys,
    private readonly applications: Applications,
    private readonly users: Users,
    private readonly refusals: RefusalRecorder,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {
    this.tokenRow = db.prepare('SELECT client_id, user_id, revoked_at FROM issued_tokens WHERE jti = ?');
  }

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
      const payload = await verifyAccessToken(this.keys, this.issuer(), match[1]!, epochSeconds(this.clock));
      if (!payload) throw challenge(401, 'invalid_token', 'the access token is invalid or expired');
      clientId = payload.client_id;
      const row = this.tokenRow.get(payload.jti) as { client_id: string; user_id: string | null; revoked_at: number | null } | undefined;
      if (!row || row.revoked_at !== null || row.user_id === null || row.user_id !== payload.sub) throw challenge(401, 'invalid_token', 'the access token is invalid or revoked');
      if (!this.applications.get(row.client_id)?.enabled) throw challenge(401, 'invalid_token', 'the access token is invalid or revoked');
      // The token must be meant for Latchkey itself (RFC 9068 §4: the audience is checked by whoever accepts it).
      if (payload.aud !== this.issuer()) throw challenge(401, 'invalid_token', 'the access token is not meant for the userinfo endpoint');
      const scopes = (payload.scope ?? '').split(' ');
      if (!scopes.includes('openid')) throw challenge(403, 'insufficient_scope', 'the openid scope is required');
      const user = this.users.get(row.user_id);
      if (!user?.enabled) throw challenge(401, 'invalid_token', 'the access token is invalid or revoked');
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
