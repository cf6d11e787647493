import type { PolicyEngine } from '../policy/policy-engine.js';
import { TOKEN_TYPES } from '../../../shared/domain.js';
import type { Consent, Consents } from '../consent/consents.js';
import type { Resources } from '../directory/resources.js';
import type { Users } from '../directory/users.js';
import type { ActClaim } from '../oauth/claims.js';
import type { IssuedTokens, NotLive } from '../tokens/issued-tokens.js';
import type { LiveAccessTokens } from '../tokens/live-access-tokens.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { TokenContext } from './grants/grant.js';
import { InvalidRequest, UnauthorizedClient } from '../oauth/errors.js';

/** Who a token exchange acts for, once its subject token has been verified (RFC 8693 §1.1, §2.1). */
export interface ResolvedSubject {
  /** The subject: a user id, or `client:<client_id>` for an autonomous token. */
  sub: string;
  userId: string | null;
  /** The client the subject token was issued to. */
  clientId: string;
  /**
   * The client the chain began with: the subject token's own client when it was not exchanged, else the client
   * of the first token of its chain. `act` names only the actors after it, so the audit row records it.
   */
  originClientId: string;
  /** The subject token's own record, when it is a Latchkey token: what the new token is derived from. */
  jti: string | null;
  audience: string | null;
  scopes: string[];
  /** The new token may not outlive this (epoch seconds). */
  exp: number;
  /** The chain so far (RFC 8693 §4.1) and its length. */
  act: ActClaim | undefined;
  delegationDepth: number;
  /**
   * What the user approved that covers the chain: null for an autonomous subject, which needs no consent
   * (only the requester's dependencies), and for impersonation, which has `impersonation` instead.
   */
  consent: Consent | null;
  /** Impersonation (a substitute-user subject token): the user's background-access grants to the requester. */
  impersonation: Impersonation | null;
}

/** A background-access grant covering a target: what it allows, and the token family it backs. */
export interface BackgroundGrant {
  consentId: string;
  scopes: string[];
  familyId: string;
}

/** What token exchange needs to know of an impersonation once the target is known (issue 4 item 2d). */
export interface Impersonation {
  /** The user's active background-access grant to the requester that covers this resource, if any. */
  grantFor(resource: string): BackgroundGrant | null;
  /** Whether the grant is still live: asked again inside the issuing write, so a withdrawal in between wins. */
  stillGranted(grant: BackgroundGrant): boolean;
}

/**
 * Resolves one `subject_token_type` (RFC 8693 §2.1). Token exchange keeps one per type: Latchkey access
 * tokens today; impersonation (`urn:latchkey:params:oauth:token-type:substitute-user`, socket only) is
 * the next one, and gets the transport for that reason.
 */
export interface SubjectTokenResolver {
  readonly tokenType: string;
  resolve(token: string, context: TokenContext): Promise<ResolvedSubject>;
}

/**
 * RFC 8693 §2.2.2: a subject token that is "invalid for any reason, or unacceptable based on policy" is
 * `invalid_request`. One description for all of them: the endpoint is no oracle for other clients' tokens.
 */
export const badSubjectToken = (reason: string): InvalidRequest => new InvalidRequest('the subject_token is not an active access token this client may exchange', { reason });

/** The audit reason for a subject token that is not live. */
const NOT_LIVE: Record<NotLive, string> = {
  unrecorded: 'subject token is not recorded',
  revoked: 'subject token is revoked',
  client_disabled: 'subject token\'s client is disabled or deleted',
  user_disabled: 'subject token\'s user is disabled',
};

/**
 * Subject tokens of type `urn:ietf:params:oauth:token-type:access_token`: an access token Latchkey issued
 * (its own keys, ES256, `typ: at+jwt`, not expired; anything else, an ID token, a refresh token, a code, an
 * API key, an assertion, is not one), recorded and not revoked, whose client and user are still enabled,
 * and addressed to the requester: the requester serves the token's audience (`resources.served_by`).
 * `may_act` (RFC 8693 §4.4) is not consulted: Latchkey never puts it in a token, so no token names anyone.
 */
export class AccessTokenSubjects implements SubjectTokenResolver {
  readonly tokenType = TOKEN_TYPES.accessToken;

  constructor(
    private readonly tokens: LiveAccessTokens,
    private readonly issuedTokens: IssuedTokens,
    private readonly resources: Resources,
    private readonly families: TokenFamilies,
    private readonly consents: Consents,
  ) {}

  async resolve(token: string, { client: requester, issuer, now }: TokenContext): Promise<ResolvedSubject> {
    const verified = await this.tokens.verify(token, issuer, Math.floor(now / 1000));
    if (!verified) throw badSubjectToken('subject token is not a valid, unexpired Latchkey access token');
    const { payload, state } = verified;
    if (!state.live) throw badSubjectToken(NOT_LIVE[state.why]);
    const row = state.token;
    // RFC 8693 §2.1 leaves who may exchange a token to policy: here, the application the token was sent to.
    if (this.resources.get(payload.aud)?.servedBy !== requester.app.clientId) throw badSubjectToken('subject token is not addressed to the requester (it does not serve the token\'s audience)');
    const depth = payload.delegation_depth ?? 0;
    if (!Number.isInteger(depth) || depth < 0) throw badSubjectToken('subject token has a malformed delegation_depth');
    return {
      sub: payload.sub,
      userId: row.userId,
      clientId: payload.client_id,
      originClientId: depth === 0 ? payload.client_id : (this.issuedTokens.root(payload.jti)?.clientId ?? payload.client_id),
      jti: payload.jti,
      audience: payload.aud,
      scopes: (payload.scope ?? '').split(' ').filter(Boolean),
      exp: payload.exp,
      act: payload.act,
      delegationDepth: depth,
      consent: row.userId === null ? null : this.consentOf(payload.jti),
      impersonation: null,
    };
  }

  /** The consent behind a user's chain: the first token's family names it. */
  private consentOf(jti: string): Consent {
    const root = this.issuedTokens.root(jti);
    const family = root?.familyId ? this.families.get(root.familyId) : null;
    const consent = family ? this.consents.get(family.consentId) : null;
    if (!family || family.revokedAt !== null || !consent || consent.revokedAt !== null) throw badSubjectToken('the authorization behind the subject token has ended');
    return consent;
  }
}

/** The longest identifier a substitute-user token may be (an email address: RFC 5321 §4.5.3.1.3). */
const MAX_USER_IDENTIFIER = 320;

/**
 * Impersonation (issue 4 item 2): subject tokens of type `urn:latchkey:params:oauth:token-type:substitute-user`,
 * whose value names a user (an email address, case-insensitive, or a user id). Latchkey issues a token as if
 * that user had asked, only when all hold, checked in this order so that each answer tells a caller no more
 * than what it already may know:
 *   a. the request came in on the local socket (the listener says so, never the request): this machine's
 *      own user only. Else `invalid_request`.
 *   b. a Cedar policy may permit the application to impersonate (`app update --allow-impersonation` writes one;
 *      `PolicyEngine.mayPermit`: whatever the user and the target; issue 5 item 1), and
 *   c. its consent mode is `implicit` (the user is not there to be asked). Else `unauthorized_client`
 *      (RFC 6749 §5.2: the authenticated client may not use this grant), one description for both; both
 *      come before the user is looked up, so an application that may not impersonate learns nothing of users.
 *   -  the identifier names an enabled user. Else `invalid_request` (RFC 8693 §2.2.2: an invalid subject
 *      token), the same answer for an unknown and a disabled user.
 *   d. the user gave the application a background-access grant covering the target: checked by token
 *      exchange once it knows the target (`Impersonation.grantFor`); else `access_denied`.
 * Every refusal's audit row says which condition failed (`detail.condition`).
 */
export class SubstituteUserSubjects implements SubjectTokenResolver {
  readonly tokenType = TOKEN_TYPES.substituteUser;

  constructor(
    private readonly users: Users,
    private readonly consents: Consents,
    private readonly families: TokenFamilies,
    private readonly policy: Pick<PolicyEngine, 'mayPermit'>,
  ) {}

  async resolve(token: string, { client: requester, transport }: TokenContext): Promise<ResolvedSubject> {
    const refused = (condition: string) => ({ reason: `impersonation refused: ${condition}`, auditDetail: { impersonation: true, condition } });
    if (transport !== 'socket') throw new InvalidRequest('impersonation is only available over the local socket', refused('socket'));
    const app = requester.app;
    const notPermitted = 'this client may not impersonate users (the admin has not permitted it, or its consent mode is not implicit)';
    if (!this.policy.mayPermit(app, requester.trustLevel, 'impersonation', { transport, delegationDepth: 1 })) throw new UnauthorizedClient(notPermitted, refused('permitted'));
    if (app.consentMode !== 'implicit') throw new UnauthorizedClient(notPermitted, refused('implicit_consent'));
    const user = token.length <= MAX_USER_IDENTIFIER ? this.users.findByIdentifier(token) : null;
    if (!user?.enabled) {
      const problem = refused('user');
      throw new InvalidRequest('the subject_token does not name a user this client may act for', { ...problem, reason: `${problem.reason} (${user ? 'disabled' : 'unknown'} user)` });
    }
    const grants = this.consents.backgroundGrants(user.id, app.clientId);
    return {
      sub: user.id,
      userId: user.id,
      clientId: app.clientId,
      originClientId: app.clientId,
      jti: null,
      audience: null,
      scopes: [],
      // No subject token to outlive: the target's lifetime alone bounds the new token.
      exp: Number.MAX_SAFE_INTEGER,
      act: undefined,
      delegationDepth: 0,
      consent: null,
      impersonation: {
        grantFor: (resource) => {
          for (const consent of grants) {
            if (!consent.resources.includes(resource)) continue;
            const familyId = this.families.liveFamiliesOf(consent.id)[0];
            if (familyId) return { consentId: consent.id, scopes: consent.scopes, familyId };
          }
          return null;
        },
        stillGranted: (grant) => this.consents.isActive(grant.consentId) && this.families.get(grant.familyId)?.revokedAt === null,
      },
    };
  }
}
