import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Approval, Approvals } from '../../consent/approvals.js';
import type { Consents } from '../../consent/consents.js';
import type { Users } from '../../directory/users.js';
import { AccessDenied, InvalidGrant, InvalidRequest, OAuthError } from '../../oauth/errors.js';
import type { Issuance } from '../../tokens/credential-issuer.js';
import type { GrantHandler, TokenContext } from './grant.js';
import type { UserTokens } from './user-tokens.js';

/** One answer for every auth_req_id that is not the caller's to redeem. */
const badRequestId = (reason: string): InvalidGrant => new InvalidGrant('the auth_req_id is invalid or was already used', { reason });

/** CIBA §11: the user has not answered yet; poll again after the interval. */
class AuthorizationPending extends OAuthError {
  constructor(reason: string) { super('authorization_pending', 400, 'the user has not answered yet', { reason }); }
}
/** CIBA §11: polling faster than the interval; the interval grew by 5 seconds for every later poll. */
class SlowDown extends OAuthError {
  constructor(interval: number) { super('slow_down', 400, `polling too fast: wait ${interval} seconds between polls`, { reason: `polled sooner than the interval; interval now ${interval} s` }); }
}
/** CIBA §11: not answered in time, which counts as a denial; make a new request. */
class ExpiredToken extends OAuthError {
  constructor() { super('expired_token', 400, 'the auth_req_id has expired', { reason: 'backchannel request expired before it was redeemed' }); }
}

/**
 * The CIBA grant in poll mode (OpenID CIBA Core §10.1, §11): the client presents the `auth_req_id` it got
 * from the backchannel authentication endpoint until the user answers. Pending → authorization_pending (or
 * slow_down when it polls too fast); denied → access_denied; past its expiry → expired_token; approved → the
 * tokens of the user's authorization, issued once, as for an authorization code.
 */
export class CibaGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.ciba;
  readonly parameters = new Set(['auth_req_id', 'resource']);
  readonly confidentialClientsOnly = true;

  constructor(
    private readonly approvals: Approvals,
    private readonly tokens: UserTokens,
    private readonly consents: Consents,
    private readonly users: Users,
  ) {}

  async handle(context: TokenContext): Promise<Issuance> {
    const { client, params } = context;
    const presented = params.get('auth_req_id');
    if (presented === undefined) throw new InvalidRequest('auth_req_id is required');
    const approval = this.approvals.findByAuthReqId(presented);
    if (!approval) throw badRequestId('unknown auth_req_id');
    // Another client's request (CIBA §11: invalid_grant); left alone, its polls untouched.
    if (approval.clientId !== client.app.clientId) throw badRequestId('auth_req_id issued to another client');
    const detail = { approval_id: approval.id };
    if (approval.status === 'redeemed') throw withDetail(badRequestId('auth_req_id presented again after its tokens were issued'), detail);
    if (approval.status === 'denied') throw withDetail(new AccessDenied('the user denied the request', { reason: 'the user denied the backchannel request' }), detail);
    if (approval.expiresAt <= context.now) throw withDetail(new ExpiredToken(), detail);
    if (approval.status === 'pending') {
      const { tooSoon } = this.approvals.recordPoll(approval);
      if (tooSoon) throw withDetail(new SlowDown(approval.intervalSeconds + 5), detail);
      throw withDetail(new AuthorizationPending('the user has not answered yet'), detail);
    }
    return this.issuance(context, approval);
  }

  private issuance(context: TokenContext, approval: Approval): Issuance {
    const consentId = approval.consentId!;
    if (!this.consents.isActive(consentId)) throw badRequestId('consent withdrawn');
    if (!this.users.get(approval.userId)?.enabled) throw badRequestId('user disabled');
    const authorization = { userId: approval.userId, consentId, scopes: approval.scopes, resources: approval.resources, authTime: approval.decidedAt!, nonce: null };
    return this.tokens.issuance(context, authorization, () => {
      // Single use: of two polls racing on one approval, one issues.
      if (!this.approvals.redeem(approval.id)) throw badRequestId('auth_req_id redeemed by a concurrent request');
    });
  }
}

function withDetail<E extends OAuthError>(error: E, detail: Record<string, unknown>): E {
  error.auditDetail = { ...error.auditDetail, ...detail };
  return error;
}
