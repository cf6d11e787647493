import { GRANT_TYPES, TOKEN_TYPES, isResourceIdentifier, isScopeToken } from '../../../../shared/domain.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import { findHop } from '../../consent/downstream.js';
import type { Application, Applications } from '../../directory/applications.js';
import type { Resource, Resources } from '../../directory/resources.js';
import type { ActClaim } from '../../oauth/claims.js';
import { verifyAccessToken } from '../../tokens/access-token.js';
import { autonomousSubject, type Issuance, type TokenResponse } from '../../tokens/issuance.js';
import type { SigningKeys } from '../../tokens/signing-keys.js';
import type { SecretRelease } from '../../tokens/secret-release.js';
import type { BrokeredRelease } from '../../brokered/brokered-release.js';
import type { Db } from '../../store/database.js';
import { AssertionRejected, type AssertionVerifier, type VerifiedAssertion } from '../assertions.js';
import type { AuthenticatedClient } from '../client-auth.js';
import { AccessDenied, InteractionRequired, InvalidClient, InvalidRequest, InvalidScope, InvalidTarget, OAuthError } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import type { BackgroundGrant, Impersonation, ResolvedSubject, SubjectTokenResolver } from '../subject-tokens.js';
import type { GrantContext, GrantHandler } from './grant.js';

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
  readonly authenticatesItself = false;
  readonly confidentialClientsOnly = true;
  private readonly subjects: Map<string, SubjectTokenResolver>;
  private readonly tokenOwner;

  constructor(
    subjects: SubjectTokenResolver[],
    db: Db,
    private readonly keys: SigningKeys,
    private readonly assertions: AssertionVerifier,
    private readonly assertionAudiences: () => readonly string[],
    private readonly applications: Applications,
    private readonly resources: Resources,
    private readonly issuance: Issuance,
    private readonly release: SecretRelease,
    private readonly brokered: BrokeredRelease,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {
    this.subjects = new Map(subjects.map((resolver) => [resolver.tokenType, resolver]));
    this.tokenOwner = db.prepare('SELECT client_id, revoked_at FROM issued_tokens WHERE jti = ?');
  }

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    if (client?.app.clientType !== 'confidential') throw new InvalidClient('this grant type is for confidential clients only; authenticate the client');
    const requester = client;
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
    const subject = await resolver.resolve(subjectToken, { requester, transport });
    const chain = { subject: subject.sub, origin_client_id: subject.originClientId, subject_client_id: subject.clientId, actors: actorsOf(subject.act), parent_jti: subject.jti, delegation_depth: subject.delegationDepth + 1 };
    try {
      this.checkChain(requester.app, subject);
      const actor = actorToken === undefined ? null : await this.verifyActor(requester, actorToken, actorTokenType!);
      const target = this.target(requester.app, params);
      const background = subject.impersonation ? this.backgroundGrant(subject.impersonation, target) : null;
      const scopes = this.scopes(requester.app, subject, target, params.get('scope'), background);
      const impersonation = subject.impersonation;
      const auditDetail = {
        ...chain, actors: [requester.app.clientId, ...chain.actors], subject_token_type: subjectTokenType, actor_token_type: actor?.tokenType ?? null,
        ...(background ? { impersonation: true, background_grant: background.consentId } : {}),
      };
      const auditReason = background ? 'impersonation: token exchange with a substitute-user subject token, under the user\'s background-access grant' : undefined;
      const redeem = (): void => {
        // Inside the issuing write: a grant withdrawn since it was looked up issues nothing.
        if (background && !impersonation!.stillGranted(background)) throw noBackgroundAccess('background-access grant withdrawn meanwhile');
        actor?.consume?.();
      };
      const issuedType = target.credentialType === 'vaulted' ? TOKEN_TYPES.staticSecret : TOKEN_TYPES.accessToken;
      if (target.credentialType === 'brokered') {
        // The user's upstream access token (issue 5 item 4): a chain that started with a user, or impersonation.
        // An autonomous chain has no user and so no upstream account: brokered/brokered-release.ts refuses it.
        if (requested !== undefined && requested !== TOKEN_TYPES.accessToken) throw new InvalidRequest(`this target's credential is ${TOKEN_TYPES.accessToken} (requested_token_type)`);
        return await this.brokered.release({
          app: requester.app, subject: subject.sub, userId: subject.userId, resource: target, grantType: this.grantType, trustLevel: requester.trustLevel, scopes,
          policyAction: background ? 'impersonation' : 'delegation_chain', transport,
          act: { sub: autonomousSubject(requester.app.clientId), client_id: requester.app.clientId, ...(subject.act ? { act: subject.act } : {}) },
          delegationDepth: subject.delegationDepth + 1,
          familyId: background?.familyId,
          auditDetail, auditReason, redeem,
        });
      }
      // §2.2.1: the server issues the type it can; asking for the other one is a request it cannot honour.
      if (requested !== undefined && requested !== issuedType) throw new InvalidRequest(`this target's credential is ${issuedType} (requested_token_type)`);
      if (target.credentialType === 'vaulted') {
        // A static secret (issue 5 item 3): the chain's rules above all applied, but there is no token to
        // record, no `act` to carry and no parent to revoke it with; rotating the secret is what ends it.
        return await this.release.release({
          app: requester.app, subject: subject.sub, userId: subject.userId, resource: target, grantType: this.grantType, trustLevel: requester.trustLevel, scopes,
          policyAction: background ? 'impersonation' : 'delegation_chain', transport,
          act: { sub: autonomousSubject(requester.app.clientId), client_id: requester.app.clientId, ...(subject.act ? { act: subject.act } : {}) },
          delegationDepth: subject.delegationDepth + 1,
          auditDetail, auditReason, redeem,
        });
      }
      return await this.issuance.issueAccessToken({
        app: requester.app,
        subject: subject.sub,
        userId: subject.userId,
        resource: target,
        // The new token never outlives the one it was exchanged from (capped where iat is set).
        notAfter: subject.exp,
        scopes,
        grantType: this.grantType,
        trustLevel: requester.trustLevel,
        policyAction: background ? 'impersonation' : 'delegation_chain',
        transport,
        act: { sub: autonomousSubject(requester.app.clientId), client_id: requester.app.clientId, ...(subject.act ? { act: subject.act } : {}) },
        delegationDepth: subject.delegationDepth + 1,
        parentJti: subject.jti ?? undefined,
        // An impersonated token joins its background grant's family: withdrawing the grant revokes it.
        familyId: background?.familyId,
        issuedTokenType: TOKEN_TYPES.accessToken,
        auditDetail,
        ...(auditReason ? { auditReason } : {}),
        redeem,
      });
    } catch (error) {
      if (error instanceof OAuthError) error.auditDetail = { ...chain, requester: requester.app.clientId, ...error.auditDetail };
      throw error;
    }
  }

  /**
   * The chain's limits (issue 4 item 1): no application acts twice in one chain, and the chain is no longer
   * than the strictest max_delegation_depth of the applications in it (the subject token's client, every
   * actor, the requester): each may say how far its part may be passed on.
   */
  private checkChain(requester: Application, subject: ResolvedSubject): void {
    const actors = actorsOf(subject.act);
    if (actors.includes(requester.clientId)) throw new InvalidRequest('the requester already acts in this delegation chain', { reason: 'repeated actor' });
    const limits = [subject.clientId, ...actors, requester.clientId].map((clientId) => this.applications.get(clientId)?.maxDelegationDepth ?? Infinity);
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
  private async verifyActor(requester: AuthenticatedClient, token: string, tokenType: string): Promise<VerifiedActor> {
    if (tokenType === TOKEN_TYPES.accessToken) {
      const payload = await verifyAccessToken(this.keys, this.issuer(), token, epochSeconds(this.clock));
      if (!payload) throw badActorToken('actor token is not a valid, unexpired Latchkey access token');
      const row = this.tokenOwner.get(payload.jti) as { client_id: string; revoked_at: number | null } | undefined;
      if (!row || row.revoked_at !== null) throw badActorToken('actor token is revoked or not recorded');
      if (row.client_id !== requester.app.clientId || payload.client_id !== requester.app.clientId) throw badActorToken('actor token belongs to another client');
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

  /**
   * §2.1: `resource` (RFC 8707) and `audience` both name the target; Latchkey's audiences are resource
   * identifiers, so both must name the same one resource, a dependency of the requester (§2.2.2:
   * `invalid_target` otherwise). One target per token.
   */
  private target(requester: Application, params: Params): Resource {
    const named = [...new Set([...params.all('resource'), ...params.all('audience')])];
    if (named.length === 0) throw new InvalidTarget('name the target with resource (or audience)');
    if (named.length > 1) throw new InvalidTarget('ask for one target per token');
    const identifier = named[0]!;
    if (!isResourceIdentifier(identifier)) throw new InvalidTarget('resource must be an absolute URI without a fragment');
    const resource = this.resources.get(identifier);
    if (!resource || !this.applications.hasDependency(requester.clientId, identifier)) {
      throw new InvalidTarget('the resource is unknown or not available to this client', { reason: resource ? 'target is not a dependency of the requester' : 'unknown target' });
    }
    // Vaulted: the secret is released; brokered: the user's upstream token is handed out (above).
    return resource;
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
    let allowed = requester.scopes === null ? target.scopes : target.scopes.filter((scope) => requester.scopes!.includes(scope));
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
    if (scopeParam === undefined) return allowed;
    const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
    for (const scope of asked) {
      if (!isScopeToken(scope)) throw new InvalidScope('malformed scope');
      if (!allowed.includes(scope)) throw new InvalidScope('a requested scope is not allowed for this exchange', { reason: `scope not allowed: ${scope.slice(0, 100)}` });
    }
    return asked;
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
