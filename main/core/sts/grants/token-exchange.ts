import { GRANT_TYPES, TOKEN_TYPES } from '../../../../shared/domain.js';
import { findHop } from '../../consent/downstream.js';
import type { Application, Applications } from '../../directory/applications.js';
import type { Resource } from '../../directory/resources.js';
import type { ActClaim } from '../../oauth/claims.js';
import { AccessDenied, InteractionRequired, InvalidRequest, OAuthError } from '../../oauth/errors.js';
import { autonomousSubject, type Issuance } from '../../tokens/credential-issuer.js';
import type { LiveAccessTokens } from '../../tokens/live-access-tokens.js';
import { AssertionRejected, type AssertionVerifier, type VerifiedAssertion } from '../assertions.js';
import type { BackgroundGrant, Impersonation, ResolvedSubject, SubjectTokenResolver } from '../subject-tokens.js';
import { narrowScopes, type TargetResolver } from '../targets.js';
import type { GrantHandler, TokenContext } from './grant.js';

/** The client ids of a chain's actors, most recent first (RFC 8693 §4.1 nests them that way). */
export function actorsOf(act: ActClaim | undefined): string[] {
  const actors: string[] = [];
  for (let level = act; level; level = level.act) actors.push(level.client_id);
  return actors;
}

/** An actor token checked but not yet used: an assertion's `jti` is spent only when the token is issued. */
interface VerifiedActor {
  tokenType: string;
  consume?: (() => void) | undefined;
}

/**
 * Token exchange (RFC 8693) for delegation chaining (issue 4 item 1): an application that received a
 * token (the subject token) exchanges it for a token to the resource it calls next, acting for the same
 * subject. The new token's `act` names the requester and nests the subject token's own `act` (§4.1: most
 * recent actor outermost); `delegation_depth` counts the exchanges.
 *
 * Errors. RFC 8693 §2.2.2: a request that is not valid, or a subject or actor token that is "invalid for
 * any reason, or unacceptable based on policy", is `invalid_request`; so are the chain limits (depth,
 * repeated actor), which are policy on the subject token. A target the server will not issue for is
 * `invalid_target` (§2.2.2), more scope than allowed `invalid_scope` (RFC 6749 §5.2), a hop the user's
 * consent does not cover `interaction_required` (DESIGN.md §2).
 */
export class TokenExchangeGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.tokenExchange;
  readonly parameters = new Set(['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope']);
  readonly confidentialClientsOnly = true;
  private readonly subjects: Map<string, SubjectTokenResolver>;

  constructor(
    subjects: SubjectTokenResolver[],
    private readonly tokens: LiveAccessTokens,
    private readonly assertions: AssertionVerifier,
    private readonly assertionAudiences: () => readonly string[],
    private readonly applications: Applications,
    private readonly targets: TargetResolver,
  ) {
    this.subjects = new Map(subjects.map((resolver) => [resolver.tokenType, resolver]));
  }

  async handle(context: TokenContext): Promise<Issuance> {
    const { client: requester, params } = context;
    const subjectToken = params.get('subject_token');
    const subjectTokenType = params.get('subject_token_type');
    // §2.1: both REQUIRED.
    if (subjectToken === undefined) throw new InvalidRequest('subject_token is required');
    if (subjectTokenType === undefined) throw new InvalidRequest('subject_token_type is required');
    const actorToken = params.get('actor_token');
    const actorTokenType = params.get('actor_token_type');
    // §2.1: actor_token_type is REQUIRED when actor_token is present and MUST NOT be included otherwise.
    if ((actorToken === undefined) !== (actorTokenType === undefined)) throw new InvalidRequest('actor_token and actor_token_type go together: send both or neither');
    const requested = params.get('requested_token_type');
    if (requested !== undefined && requested !== TOKEN_TYPES.accessToken && requested !== TOKEN_TYPES.staticSecret) {
      throw new InvalidRequest('only access tokens (or a vaulted resource\'s static secret) can be requested (requested_token_type)');
    }

    const resolver = this.subjects.get(subjectTokenType);
    if (!resolver) {
      // §2.2.2 names no code for an unsupported token type (`unsupported_token_type` is RFC 7009's, for
      // revocation): the request itself is not valid, so invalid_request.
      throw new InvalidRequest(`unsupported subject_token_type; use ${TOKEN_TYPES.accessToken}`, { reason: `subject_token_type ${subjectTokenType.slice(0, 100)}` });
    }
    const subject = await resolver.resolve(subjectToken, context);
    const chain = { subject: subject.sub, origin_client_id: subject.originClientId, subject_client_id: subject.clientId, actors: actorsOf(subject.act), parent_jti: subject.jti, delegation_depth: subject.delegationDepth + 1 };
    // Every refusal from here on, the issuer's included, names the chain it would have extended.
    const refusal = { ...chain, requester: requester.app.clientId };
    try {
      this.checkChain(requester.app, subject);
      const actor = actorToken === undefined ? null : await this.verifyActor(context, actorToken, actorTokenType!);
      const target = this.targets.exchange(requester.app, params);
      const impersonation = subject.impersonation;
      const background = impersonation ? this.backgroundGrant(impersonation, target) : null;
      const scopes = this.scopes(requester.app, subject, target, params.get('scope'), background);
      return {
        resource: target,
        scopes,
        subject: subject.sub,
        userId: subject.userId,
        policyAction: background ? 'impersonation' : 'delegation_chain',
        chain: {
          act: { sub: autonomousSubject(requester.app.clientId), client_id: requester.app.clientId, ...(subject.act ? { act: subject.act } : {}) },
          delegationDepth: subject.delegationDepth + 1,
          // A Latchkey token exchanged from another is revoked with it, and never outlives it.
          parentJti: subject.jti,
          notAfter: subject.exp,
          requestedTokenType: requested,
        },
        // An impersonated credential joins its background grant's family: withdrawing the grant revokes it.
        family: background ? { id: background.familyId } : undefined,
        spend: () => {
          // Inside the issuing write: a grant withdrawn since it was looked up issues nothing.
          if (background && !impersonation!.stillGranted(background)) throw noBackgroundAccess('background-access grant withdrawn meanwhile');
          actor?.consume?.();
        },
        audit: {
          reason: background ? 'impersonation: token exchange with a substitute-user subject token, under the user\'s background-access grant' : undefined,
          detail: {
            ...chain, actors: [requester.app.clientId, ...chain.actors], subject_token_type: subjectTokenType, actor_token_type: actor?.tokenType ?? null,
            ...(background ? { impersonation: true, background_grant: background.consentId } : {}),
          },
          refusal,
        },
      };
    } catch (error) {
      if (error instanceof OAuthError) error.auditDetail = { ...refusal, ...error.auditDetail };
      throw error;
    }
  }

  /**
   * The chain's limits (issue 4 item 1): no application acts twice in one chain, and the chain is no longer
   * than the strictest max_delegation_depth of the applications in it (the client the chain began with, the
   * subject token's client, every actor, the requester): each may say how far its part may be passed on.
   */
  private checkChain(requester: Application, subject: ResolvedSubject): void {
    const actors = actorsOf(subject.act);
    if (actors.includes(requester.clientId)) throw new InvalidRequest('the requester already acts in this delegation chain', { reason: 'repeated actor' });
    const limits = [subject.originClientId, subject.clientId, ...actors, requester.clientId].map((clientId) => this.applications.get(clientId)?.maxDelegationDepth ?? Infinity);
    const limit = Math.min(...limits);
    if (subject.delegationDepth + 1 > limit) {
      throw new InvalidRequest(`the delegation chain would be longer than allowed (${limit} exchanges)`, { reason: `delegation depth ${subject.delegationDepth + 1} over the limit ${limit}` });
    }
  }

  /**
   * §2.1: the actor token proves who is acting; here it must be the requester. Either an access token
   * Latchkey issued to the requester, or a JWT (RFC 7523 style) signed by a key the requester registered,
   * with `iss` and `sub` the requester, single use by `jti`.
   */
  private async verifyActor(context: TokenContext, token: string, tokenType: string): Promise<VerifiedActor> {
    const requester = context.client;
    if (tokenType === TOKEN_TYPES.accessToken) {
      const verified = await this.tokens.verify(token, context.issuer, Math.floor(context.now / 1000));
      if (!verified) throw badActorToken('actor token is not a valid, unexpired Latchkey access token');
      if (!verified.state.live) throw badActorToken('actor token is revoked or not recorded');
      if (verified.payload.client_id !== requester.app.clientId) throw badActorToken('actor token belongs to another client');
      return { tokenType };
    }
    if (tokenType === TOKEN_TYPES.jwt) {
      let verified: VerifiedAssertion;
      try {
        verified = await this.assertions.verify(token, this.assertionAudiences());
      } catch (error) {
        if (error instanceof AssertionRejected) throw badActorToken(`actor assertion: ${error.reason}`);
        throw error;
      }
      if (verified.app.clientId !== requester.app.clientId || verified.payload.sub !== requester.app.clientId) throw badActorToken('actor assertion is not the requester\'s own');
      return {
        tokenType,
        consume: () => {
          try {
            this.assertions.consume(verified);
          } catch (error) {
            if (error instanceof AssertionRejected) throw badActorToken(`actor assertion: ${error.reason}`);
            throw error;
          }
        },
      };
    }
    throw new InvalidRequest(`unsupported actor_token_type; use ${TOKEN_TYPES.accessToken} or ${TOKEN_TYPES.jwt}`);
  }

  /** Issue 4 item 2d: impersonation needs the user's background-access grant to the requester for the target. */
  private backgroundGrant(impersonation: Impersonation, target: Resource): BackgroundGrant {
    const grant = impersonation.grantFor(target.identifier);
    if (!grant) throw noBackgroundAccess('no background-access grant for the target');
    return grant;
  }

  /**
   * The new token's scope. Scopes belong to resources, so the subject token's scope (its audience's)
   * says nothing about another resource; what narrows along a chain is what each hop was approved for:
   *   allowed = the target's scopes ∩ the requester's allowed scopes
   *           ∩ the scopes the user's consent gives this hop (user subjects; autonomous ones have no consent)
   *           ∩ the subject token's scope, when the target is the subject token's own audience
   *           ∩ the scopes of the user's background-access grant (impersonation).
   * No `scope` means all of that; asking for more is `invalid_scope`, never a silent narrowing.
   */
  private scopes(requester: Application, subject: ResolvedSubject, target: Resource, scopeParam: string | undefined, background: BackgroundGrant | null): string[] {
    let allowed = target.scopes.filter((scope) => this.targets.mayHave(requester, scope));
    if (background) allowed = allowed.filter((scope) => background.scopes.includes(scope));
    if (subject.consent) {
      const hop = findHop(subject.consent.downstream, requester.clientId, target.identifier);
      if (!hop) {
        const rootApp = this.applications.get(subject.consent.clientId);
        const root = rootApp?.name ?? subject.consent.clientId;
        // An application without a browser gets the approval through CIBA (issue 5 item 2): say so.
        const how = rootApp?.grantTypes.includes(GRANT_TYPES.ciba)
          ? `; ${root} can ask the user for it without a browser at the backchannel authentication endpoint (OpenID CIBA, /oauth2/bc-authorize)`
          : '';
        throw new InteractionRequired(
          `the user's consent does not cover ${requester.name} reaching ${target.name} for them: the user must authorize ${root} again (the consent page lists this step) before it can be taken${how}`,
          { reason: 'hop outside the consented downstream tree' },
        );
      }
      allowed = allowed.filter((scope) => hop.scopes.includes(scope));
    }
    if (subject.audience === target.identifier) allowed = allowed.filter((scope) => subject.scopes.includes(scope));
    return narrowScopes(allowed, scopeParam, 'a requested scope is not allowed for this exchange');
  }
}

/**
 * Impersonation without the user's background-access grant for the target: the user has not authorized it,
 * and cannot be asked now (RFC 8628 §3.5 uses `access_denied` at the token endpoint for the same).
 */
const noBackgroundAccess = (why: string): AccessDenied =>
  new AccessDenied('the user has not given this client background access to this resource', { reason: `impersonation refused: ${why}`, auditDetail: { impersonation: true, condition: 'background_grant' } });

/** RFC 8693 §2.2.2: an invalid or unacceptable actor token is `invalid_request`. */
const badActorToken = (reason: string): InvalidRequest => new InvalidRequest('the actor_token is not valid for this client', { reason });
