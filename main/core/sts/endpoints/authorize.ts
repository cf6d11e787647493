import { timingSafeEqual } from 'node:crypto';
import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import { formActionSource, renderConsentPage, renderErrorPage, renderSignInPage, type ConsentPageView } from '../../consent/consent-page.js';
import type { Consents } from '../../consent/consents.js';
import { downstreamTree, parseDownstream, serializeDownstream, type DownstreamHop } from '../../consent/downstream.js';
import type { OwnerPresence } from '../../consent/owner-presence.js';
import type { UiSession } from '../../consent/ui-sessions.js';
import type { Application, Applications } from '../../directory/applications.js';
import { hashSecret, newId, randomSecret, secretMatches } from '../../store/credentials.js';
import type { Resource, Resources } from '../../directory/resources.js';
import type { User, Users } from '../../directory/users.js';
import type { Db } from '../../store/database.js';
import type { AuthorizationCodes } from '../authorization-codes.js';
import { AccessDenied, OAuthError } from '../../oauth/errors.js';
import type { IssuanceDecider } from '../../tokens/credential-issuer.js';
import type { Params } from '../../oauth/params.js';
import { isWellFormedChallenge } from '../pkce.js';
import { redirectUriMatches, withQuery, redirectProvesReceiver } from '../../oauth/redirect-uri.js';
import { isIdentityScope, type TargetResolver } from '../targets.js';

/** How long the user has to answer a consent page. */
const TRANSACTION_LIFETIME_MS = 10 * 60_000;
/** RFC 8707 §2 allows `resource` more than once; every other parameter at most once (OAuth 2.1 §3.1). */
const REPEATABLE = new Set(['resource']);
/** The fields of the consent form; anything else in the POST is tampering. */
const DECISION_FIELDS = new Set(['transaction', 'csrf', 'decision', 'remember', 'owner_passphrase']);
const PROMPTS = new Set(['none', 'consent', 'login', 'select_account']);

export type AuthorizationOutcome =
  | { kind: 'redirect'; location: string }
  /** `formAction`: where the page's form may lead (its redirect URI), for the page's CSP. */
  | { kind: 'page'; status: number; html: string; formAction?: string | undefined };

/** A request the user must see without being sent to the client (OAuth 2.1 §4.1.2.1: bad client or redirect URI). */
class ShownError extends Error {
  constructor(readonly status: number, readonly title: string, readonly shown: string, readonly reason: string, readonly error = 'invalid_request') {
    super(shown);
  }
}

/** An error the client hears about at its redirect URI, with `state` and `iss` (RFC 9207). */
class RedirectedError extends Error {
  constructor(readonly oauth: OAuthError, readonly redirectUri: string, readonly state: string | undefined) {
    super(oauth.message);
  }
}

interface ValidatedRequest {
  app: Application;
  redirectUri: string;
  redirectUriGiven: boolean;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  scopes: string[];
  resources: Resource[];
  prompts: Set<string>;
}

interface TransactionRow {
  id: string;
  csrf_hash: Buffer;
  session_hash: Buffer;
  user_id: string;
  client_id: string;
  redirect_uri: string;
  redirect_uri_given: number;
  state: string | null;
  nonce: string | null;
  code_challenge: string;
  scopes: string;
  resources: string;
  auth_time: number;
  expires_at: number;
  used_at: number | null;
  downstream: string;
}

export interface AuthorizationDeps {
  db: Db;
  transaction: <T>(work: () => T) => T;
  applications: Applications;
  resources: Resources;
  users: Users;
  consents: Consents;
  codes: AuthorizationCodes;
  audit: AuditLog;
  refusals: RefusalRecorder;
  clock: Clock;
  issuer: () => string;
  targets: TargetResolver;
  /** Cedar (issue 5 item 1): a request no policy permits is refused before the user is asked. */
  policy: IssuanceDecider;
  /** Issue 12 §1: once the owner has a passphrase, allowing on the consent page needs it (or a present session). */
  presence: OwnerPresence;
  /** Brokered resources' upstream accounts (issue 5 item 4): the consent page offers to connect missing ones. */
  brokered?: BrokeredAccountsView | undefined;
}

/** What the consent page needs to know of a user's upstream accounts. */
export interface BrokeredAccountsView {
  status(providerId: string, userId: string): 'not_connected' | 'connected' | 'needs_attention';
  providerName(providerId: string): string;
  /** The origin the browser is sent to when connecting (the page's CSP must let its form lead there). */
  authorizationOrigin(providerId: string): string;
}

/** A connect started from the consent page: checked against the page's transaction, session and CSRF token. */
export interface ConsentConnect {
  userId: string;
  providerId: string;
  session: UiSession;
  /** This same authorization request, to come back to after the callback. */
  returnTo: string;
}

/** The fields of the consent page's connect form. */
const CONNECT_FIELDS = new Set(['transaction', 'csrf', 'provider']);

/**
 * The authorization endpoint (OAuth 2.1 §4.1.1, OIDC Core §3.1.2): validates the request, finds the user
 * by their UI session, asks for consent unless a remembered one covers the request, and answers the
 * client's redirect URI with a single-use code, `state` and `iss`. Knows HTML only through the page
 * renderers and HTTP only through the outcome it returns.
 */
export class AuthorizationEndpoint {
  constructor(private readonly deps: AuthorizationDeps) {}

  /** GET /oauth2/authorize. `params` is the query string; `session` the browser's UI session, if any. */
  request(params: Params, session: UiSession | null): AuthorizationOutcome {
    let clientId: string | null = null;
    try {
      const request = this.validate(params);
      clientId = request.app.clientId;
      const user = session ? this.deps.users.get(session.userId) : null;
      // OIDC Core §3.1.2.1: prompt=none never shows a page.
      if (!session || !user?.enabled) {
        if (request.prompts.has('none')) throw new RedirectedError(new OAuthError('login_required', 400, 'the user is not signed in to Latchkey'), request.redirectUri, request.state);
        return { kind: 'page', status: 200, html: renderSignInPage(`/oauth2/authorize?${signInQuery(params)}`) };
      }
      this.checkPolicy(request, user.id);
      const mustAsk = request.prompts.has('consent') || request.prompts.has('login') || request.prompts.has('select_account')
        // OAuth 2.1 §7.3.1: a dynamically registered client's identity is not vouched for; ask every time.
        || request.app.registration === 'dynamic';
      const scopes = request.scopes;
      const resources = request.resources.map((resource) => resource.identifier);
      const downstream = this.downstreamOf(request);
      const remembered = mustAsk ? null : this.deps.consents.findRemembered(user.id, request.app.clientId, resources, scopes, downstream);
      // Issue 12 §4, RFC 8252 §8.6: when the client's identity cannot be assured (a public client, or a code
      // delivered to a loopback port or a private-use scheme any local process can hold), a remembered consent
      // still needs the user's click: a one-click "Continue" page, and prompt=none is consent_required.
      if (remembered && !identityAssured(request)) {
        if (request.prompts.has('none')) throw new RedirectedError(new OAuthError('consent_required', 400, 'the user must confirm this request: the client\'s identity cannot be assured'), request.redirectUri, request.state);
        return this.showConsent(request, downstream, user, session, true);
      }
      if (remembered) {
        const code = this.deps.transaction(() => {
          const issued = this.deps.codes.issue(codeBinding(request, user.id, remembered.id, session.startedAt));
          this.deps.audit.append({ event: 'authorization.code_issued', decision: 'allow', clientId: request.app.clientId, subject: user.id,
            reason: 'remembered consent', detail: { consent_id: remembered.id, scopes, resources } });
          return issued;
        });
        return this.answer(request.redirectUri, { code, state: request.state });
      }
      if (request.prompts.has('none')) throw new RedirectedError(new OAuthError('consent_required', 400, 'the user has not consented to this request'), request.redirectUri, request.state);
      return this.showConsent(request, downstream, user, session);
    } catch (error) {
      return this.refusal(error, clientId ?? params.get('client_id') ?? null);
    }
  }

  /** POST /oauth2/authorize: the user's decision on a consent page (null: the body was not a form, or had a query). Answers 303. */
  async decide(form: Params | null, session: UiSession | null): Promise<AuthorizationOutcome> {
    const known: { clientId: string | null } = { clientId: null };
    try {
      const { row, session: signedIn } = this.pageForm(form, session, DECISION_FIELDS, known);
      const decision = form!.get('decision');
      if (decision !== 'allow' && decision !== 'deny') throw new ShownError(400, 'Bad request', 'Choose Allow or Deny.', 'decision is neither allow nor deny');
      const app = this.deps.applications.get(row.client_id);
      const user = this.deps.users.get(row.user_id);
      if (!app?.enabled || !user?.enabled || user.id !== signedIn.userId) throw new ShownError(400, 'Request refused', 'The application or your account is no longer enabled.', 'client or user disabled', 'access_denied');

      // Issue 12 §1: granting consent loosens. A session that has not proven presence proves it here, with
      // the passphrase typed on this page; a session alone (an agent can mint one) is no proof.
      if (decision === 'allow') await this.proveOwner(signedIn, form!.get('owner_passphrase'));

      const scopes = JSON.parse(row.scopes) as string[];
      const resources = JSON.parse(row.resources) as string[];
      const remember = form!.get('remember') === 'yes';
      const state = row.state ?? undefined;
      const code = this.deps.transaction(() => {
        // Single use: of two posts of one form, one decides (a conditional UPDATE under the write lock).
        const spent = this.deps.db.prepare('UPDATE authorization_requests SET used_at = ? WHERE id = ? AND used_at IS NULL').run(this.deps.clock.now(), row.id).changes === 1;
        if (!spent) throw new ShownError(400, 'This request is over', 'This consent request was already answered.', 'transaction used');
        if (decision === 'deny') {
          this.deps.audit.append({ event: 'consent.denied', decision: 'deny', clientId: app.clientId, subject: user.id, reason: 'the user denied the request', detail: { scopes, resources } });
          return null;
        }
        // The approval covers the downstream tree this page showed, not whatever the directory says now.
        const downstream = parseDownstream(row.downstream);
        const consent = this.deps.consents.record(user.id, app.clientId, resources, scopes, remember, downstream);
        this.deps.audit.append({ event: 'consent.granted', decision: 'allow', clientId: app.clientId, subject: user.id, reason: 'the user allowed the request',
          detail: { consent_id: consent.id, scopes, resources, remembered: remember, downstream: downstream.map((hop) => ({ depth: hop.depth, client_id: hop.clientId, resource: hop.resource, scopes: hop.scopes })) } });
        const issued = this.deps.codes.issue({
          clientId: app.clientId, userId: user.id, consentId: consent.id, redirectUri: row.redirect_uri, redirectUriGiven: row.redirect_uri_given === 1,
          codeChallenge: row.code_challenge, scopes, resources, nonce: row.nonce, authTime: row.auth_time,
        });
        this.deps.audit.append({ event: 'authorization.code_issued', decision: 'allow', clientId: app.clientId, subject: user.id, reason: 'consent given', detail: { consent_id: consent.id } });
        return issued;
      });
      if (code === null) return this.answer(row.redirect_uri, { error: 'access_denied', error_description: 'the user denied the request', state });
      return this.answer(row.redirect_uri, { code, state });
    } catch (error) {
      return this.refusal(error, known.clientId);
    }
  }

  private async proveOwner(session: UiSession, passphrase: string | undefined): Promise<void> {
    const caller = { kind: 'session', sessionId: session.idHash } as const;
    if (!this.deps.presence.passphraseSet || this.deps.presence.state(caller).presentUntil !== null) return;
    if (!passphrase) throw new ShownError(403, 'Your passphrase is needed', 'Type your owner passphrase to allow this: go back to the consent page and try again.', 'consent without proof of presence', 'access_denied');
    try {
      await this.deps.presence.prove(caller, passphrase, 'ui');
    } catch (error) {
      if (error instanceof OAuthError) throw new ShownError(error.status, 'Not allowed', error.status === 429 ? error.message : 'That is not your owner passphrase. Go back to the consent page and try again.', `consent: ${error.error}`, 'access_denied');
      throw error;
    }
  }

  /**
   * POST /oauth2/providers/connect (issue 5 item 4): the consent page's offer to connect an upstream account
   * for a brokered resource of the request. The form carries the page's transaction and CSRF token, checked
   * as for the decision but not spent: the user answers the consent page after coming back. Only a provider
   * of one of the request's resources; the way back is this request, rebuilt from the transaction.
   */
  connectFromConsent(form: Params | null, session: UiSession | null): ConsentConnect | AuthorizationOutcome {
    const known: { clientId: string | null } = { clientId: null };
    try {
      const { row, session: signedIn } = this.pageForm(form, session, CONNECT_FIELDS, known);
      const resources = JSON.parse(row.resources) as string[];
      const providerId = form!.get('provider');
      const offered = resources.map((identifier) => this.deps.resources.get(identifier)).filter((resource) => resource?.credentialType === 'brokered').map((resource) => resource!.providerId);
      if (providerId === undefined || !offered.includes(providerId)) throw new ShownError(400, 'Bad request', 'This request does not need that provider.', 'provider not among the request\'s brokered resources');
      const query = new URLSearchParams({ response_type: 'code', client_id: row.client_id });
      if (row.redirect_uri_given === 1) query.set('redirect_uri', row.redirect_uri);
      const scopes = JSON.parse(row.scopes) as string[];
      if (scopes.length) query.set('scope', scopes.join(' '));
      for (const resource of resources) query.append('resource', resource);
      if (row.state !== null) query.set('state', row.state);
      if (row.nonce !== null) query.set('nonce', row.nonce);
      query.set('code_challenge', row.code_challenge);
      query.set('code_challenge_method', 'S256');
      return { userId: row.user_id, providerId, session: signedIn, returnTo: `/oauth2/authorize?${query}` };
    } catch (error) {
      return this.refusal(error, known.clientId);
    }
  }

  /**
   * A form posted from the consent page (the decision, or a connect): only its own fields, each once; a UI
   * session; a live transaction bound to that session (issue 3 item 2: another session's cookie is not enough);
   * its CSRF token. `known.clientId` is set as soon as the transaction is found, for the refusal's audit row.
   */
  private pageForm(form: Params | null, session: UiSession | null, fields: ReadonlySet<string>, known: { clientId: string | null }): { row: TransactionRow; session: UiSession } {
    if (!form) throw new ShownError(400, 'Bad request', 'The consent form must be posted as a form.', 'form not sent as a form body');
    const duplicate = form.firstDuplicate(new Set());
    if (duplicate) throw new ShownError(400, 'Bad request', 'The form was sent with a field twice.', `duplicate field ${duplicate}`);
    const extra = form.names().find((name) => !fields.has(name));
    if (extra !== undefined) throw new ShownError(400, 'Bad request', 'The form carried fields it does not have.', `unexpected field ${extra.slice(0, 50)}`);
    if (!session) throw new ShownError(403, 'Not signed in', 'Sign in to Latchkey, then start again from the application.', 'no UI session', 'access_denied');
    const id = form.get('transaction');
    const row = id === undefined ? undefined : this.deps.db.prepare('SELECT * FROM authorization_requests WHERE id = ?').get(id) as TransactionRow | undefined;
    if (!row || row.used_at !== null || row.expires_at <= this.deps.clock.now()) {
      throw new ShownError(400, 'This request is over', 'This consent request was already answered or has expired. Start again from the application.', row ? 'transaction used or expired' : 'unknown transaction');
    }
    known.clientId = row.client_id;
    if (row.session_hash.length !== session.idHash.length || !timingSafeEqual(row.session_hash, session.idHash)) {
      throw new ShownError(403, 'Request refused', 'This consent request belongs to another sign-in.', 'transaction of another session', 'access_denied');
    }
    const csrf = form.get('csrf');
    if (csrf === undefined || !secretMatches(csrf, row.csrf_hash)) throw new ShownError(403, 'Request refused', 'The form could not be verified. Start again from the application.', csrf === undefined ? 'missing CSRF token' : 'wrong CSRF token', 'access_denied');
    return { row, session };
  }

  /** Forgets transactions nobody can answer any more. */
  sweep(): void {
    this.deps.db.prepare('DELETE FROM authorization_requests WHERE expires_at < ?').run(this.deps.clock.now() - 3600_000);
  }

  private validate(params: Params): ValidatedRequest {
    // First the client and its redirect URI: until both are known good, nothing may be sent to the redirect URI.
    for (const name of ['client_id', 'redirect_uri']) {
      if (params.all(name).length > 1) throw new ShownError(400, 'Invalid request', `The request names its ${name} more than once.`, `duplicate ${name}`);
    }
    const clientId = params.get('client_id');
    if (clientId === undefined) throw new ShownError(400, 'Invalid request', 'The request does not say which application is asking (client_id).', 'missing client_id');
    const app = this.deps.applications.get(clientId);
    if (!app || !app.enabled) throw new ShownError(400, 'Unknown application', 'The application that sent you here is not registered with Latchkey, or is disabled.', app ? 'client disabled' : 'unknown client', 'invalid_client');
    const presented = params.get('redirect_uri');
    let redirectUri: string;
    if (presented !== undefined) {
      const match = app.redirectUris.find((registered) => redirectUriMatches(registered, presented));
      if (!match) throw new ShownError(400, 'Invalid redirect URI', 'The application asked to send you back to an address it did not register.', 'redirect_uri does not match a registered one');
      redirectUri = presented;
    } else {
      // OAuth 2.1 §2.3.2: may be omitted only when exactly one is registered.
      if (app.redirectUris.length !== 1) throw new ShownError(400, 'Invalid request', 'The application did not say where to send you back (redirect_uri).', app.redirectUris.length ? 'redirect_uri required: several registered' : 'no redirect URI registered');
      redirectUri = app.redirectUris[0]!;
    }

    const state = params.get('state');
    const fail = (error: string, description: string, reason?: string): never => {
      throw new RedirectedError(new OAuthError(error, 400, description, { reason: reason ?? description }), redirectUri, state !== undefined && state.length <= 2048 ? state : undefined);
    };
    const duplicate = params.firstDuplicate(REPEATABLE);
    if (duplicate) fail('invalid_request', `parameter ${duplicate} was sent more than once`);
    if (state !== undefined && state.length > 2048) fail('invalid_request', 'state is too long');
    if (params.has('request')) fail('request_not_supported', 'request objects are not supported');
    if (params.has('request_uri')) fail('request_uri_not_supported', 'request_uri is not supported');
    const responseType = params.get('response_type');
    if (responseType === undefined) fail('invalid_request', 'response_type is required');
    // OAuth 2.1 §4.1.1: `code` only; the implicit grant (`token`) is gone.
    if (responseType !== 'code') fail('unsupported_response_type', 'only response_type=code is supported');
    const responseMode = params.get('response_mode');
    if (responseMode !== undefined && responseMode !== 'query') fail('invalid_request', 'only response_mode=query is supported');
    if (!app.grantTypes.includes(GRANT_TYPES.authorizationCode)) fail('unauthorized_client', 'the client may not use the authorization code grant');

    // PKCE with S256 for every client (OAuth 2.1 §4.1.1, RFC 7636 §4.3); `plain` is refused.
    const codeChallenge = params.get('code_challenge');
    if (codeChallenge === undefined) fail('invalid_request', 'code_challenge is required (PKCE)');
    const method = params.get('code_challenge_method');
    if (method !== 'S256') fail('invalid_request', 'code_challenge_method must be S256', `code_challenge_method ${method === undefined ? 'missing (plain)' : method.slice(0, 20)}`);
    if (!isWellFormedChallenge(codeChallenge!)) fail('invalid_request', 'code_challenge is malformed');

    const nonce = params.get('nonce');
    if (nonce !== undefined && nonce.length > 512) fail('invalid_request', 'nonce is too long');
    const prompts = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
    for (const prompt of prompts) if (!PROMPTS.has(prompt)) fail('invalid_request', 'unsupported prompt value');
    // OIDC Core §3.1.2.1: none with any other value is an error.
    if (prompts.has('none') && prompts.size > 1) fail('invalid_request', 'prompt=none cannot be combined with other values');

    const resources = this.deps.targets.requestedResources(app, params.all('resource'), fail);
    const scopes = this.deps.targets.requestedScopes(app, resources, params.get('scope'), fail);
    return { app, redirectUri, redirectUriGiven: presented !== undefined, state, nonce, codeChallenge: codeChallenge!, scopes, resources, prompts };
  }

  /**
   * The downstream hops approving this request would also cover (issue 4 item 1): down to the requesting
   * application's max_delegation_depth, the first link of every chain its token can start.
   */
  private downstreamOf(request: ValidatedRequest): DownstreamHop[] {
    return downstreamTree(request.resources.map((resource) => resource.identifier), request.app.maxDelegationDepth, this.deps.applications, this.deps.resources);
  }

  private showConsent(request: ValidatedRequest, downstream: DownstreamHop[], user: User, session: UiSession, continuing = false): AuthorizationOutcome {
    const id = newId('atx');
    const csrf = randomSecret();
    const now = this.deps.clock.now();
    this.deps.db.prepare(
      `INSERT INTO authorization_requests (id, csrf_hash, session_hash, user_id, client_id, redirect_uri, redirect_uri_given, state, nonce,
         code_challenge, scopes, resources, auth_time, created_at, expires_at, downstream)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(id, hashSecret(csrf), session.idHash, user.id, request.app.clientId, request.redirectUri, request.redirectUriGiven ? 1 : 0,
      request.state ?? null, request.nonce ?? null, request.codeChallenge, JSON.stringify(request.scopes),
      JSON.stringify(request.resources.map((resource) => resource.identifier)), session.startedAt, now, now + TRANSACTION_LIFETIME_MS,
      serializeDownstream(downstream));
    // Brokered resources whose upstream account is not connected (issue 5 item 4): the page offers to connect them.
    const connect = this.deps.brokered ? this.connectOffers(request.resources, user.id, this.deps.brokered) : [];
    const html = renderConsentPage({
      connect,
      continuing,
      askPassphrase: this.deps.presence.passphraseSet && this.deps.presence.state({ kind: 'session', sessionId: session.idHash }).presentUntil === null,
      transactionId: id,
      csrfToken: csrf,
      applicationName: request.app.name,
      registration: request.app.registration,
      redirectHost: redirectHost(request.redirectUri),
      userName: user.name,
      resources: request.resources.map((resource) => ({
        name: resource.name, identifier: resource.identifier, scopes: request.scopes.filter((scope) => resource.scopes.includes(scope)),
        // A brokered resource is reached with the user's account at its provider, with these upstream scopes.
        ...(resource.credentialType === 'brokered' && resource.providerId && this.deps.brokered
          ? { upstream: { provider: this.deps.brokered.providerName(resource.providerId), scopes: resource.upstreamScopes } } : {}),
      })),
      identityScopes: request.scopes.filter(isIdentityScope),
      downstream: downstream.map((hop) => ({
        depth: hop.depth,
        applicationName: this.deps.applications.get(hop.clientId)?.name ?? hop.clientId,
        resourceName: this.deps.resources.get(hop.resource)?.name ?? hop.resource,
        identifier: hop.resource,
        scopes: hop.scopes,
      })),
    });
    const upstreamOrigins = connect.map((offer) => this.deps.brokered!.authorizationOrigin(offer.providerId));
    return { kind: 'page', status: 200, html, formAction: [...new Set([formActionSource(request.redirectUri), ...upstreamOrigins])].join(' ') };
  }

  private connectOffers(resources: readonly Resource[], userId: string, brokered: BrokeredAccountsView): ConsentPageView['connect'] {
    const offers = new Map<string, ConsentPageView['connect'][number]>();
    for (const resource of resources) {
      if (resource.credentialType !== 'brokered' || resource.providerId === null || offers.has(resource.providerId)) continue;
      const status = brokered.status(resource.providerId, userId);
      if (status !== 'connected') offers.set(resource.providerId, { providerId: resource.providerId, providerName: brokered.providerName(resource.providerId), needsAttention: status === 'needs_attention' });
    }
    return [...offers.values()];
  }

  /** Every authorization response carries `iss` (RFC 9207 §2). */
  private answer(redirectUri: string, params: Record<string, string | undefined>): AuthorizationOutcome {
    return { kind: 'redirect', location: withQuery(redirectUri, { ...params, iss: this.deps.issuer() }) };
  }

  /**
   * Each requested resource (Latchkey itself when none) must be permitted for user delegation; a denial is
   * `access_denied` at the redirect URI, the policy text never shown. The client has proved nothing here,
   * so `trust_level` is `none`; the token endpoint decides again with what the client proves there.
   */
  private checkPolicy(request: ValidatedRequest, userId: string): void {
    const audiences = request.resources.length > 0 ? request.resources.map((resource) => resource.identifier) : [this.deps.issuer()];
    for (const identifier of audiences) {
      const decision = this.deps.policy.decide({
        app: request.app, userId, resource: { identifier }, scopes: request.scopes, grantType: GRANT_TYPES.authorizationCode,
        trustLevel: 'none', policyAction: 'user_delegation', transport: 'tcp',
      });
      if (decision.decision !== 'allow') {
        throw new RedirectedError(new AccessDenied('the request is not permitted by policy', {
          reason: 'policy denied user_delegation', auditDetail: { policy: { decision: decision.decision, policies: decision.policies }, policy_action: 'user_delegation', resource: identifier },
        }), request.redirectUri, request.state);
      }
    }
  }

  private refusal(error: unknown, clientId: string | null): AuthorizationOutcome {
    if (error instanceof RedirectedError) {
      this.deps.refusals.record({ event: 'authorization.refused', clientId }, error.oauth);
      return this.answer(error.redirectUri, { error: error.oauth.error, error_description: error.oauth.description, state: error.state });
    }
    if (error instanceof ShownError) {
      this.deps.refusals.record({ event: 'authorization.refused', clientId }, `${error.error}: ${error.reason}`);
      return { kind: 'page', status: error.status, html: renderErrorPage(error.title, error.shown) };
    }
    throw error;
  }
}

function codeBinding(request: ValidatedRequest, userId: string, consentId: string, authTime: number) {
  return {
    clientId: request.app.clientId, userId, consentId, redirectUri: request.redirectUri, redirectUriGiven: request.redirectUriGiven,
    codeChallenge: request.codeChallenge, scopes: request.scopes, resources: request.resources.map((resource) => resource.identifier),
    nonce: request.nonce ?? null, authTime,
  };
}

/** What the consent page names as the destination: the host of an http(s) URI, or a private-use scheme. */
function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol;
}

/** The request's own parameters, re-serialized (URL-safe characters only) for the sign-in page's `next`. */
function signInQuery(params: Params): string {
  const query = new URLSearchParams();
  for (const [name, value] of params.entries()) query.append(name, value);
  return query.toString();
}

/** Whether a code can go out without the user's click: a confidential client, answered at an https redirect URI. */
const identityAssured = (request: ValidatedRequest): boolean => request.app.clientType === 'confidential' && redirectProvesReceiver(request.redirectUri);
