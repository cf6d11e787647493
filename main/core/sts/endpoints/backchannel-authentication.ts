import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { RefusalRecorder } from '../../audit/refusals.js';
import { DEFAULT_APPROVAL_LIFETIME_SECONDS, MAX_APPROVAL_LIFETIME_SECONDS, type Approvals } from '../../consent/approvals.js';
import { downstreamTree } from '../../consent/downstream.js';
import type { Consents } from '../../consent/consents.js';
import type { Applications } from '../../directory/applications.js';
import type { Resources } from '../../directory/resources.js';
import type { Users } from '../../directory/users.js';
import type { AgentPause } from '../agent-pause.js';
import { CLIENT_AUTH_PARAMETERS, type AuthenticatedClient, type ClientAuthenticator } from '../client-auth.js';
import { InvalidClient, InvalidRequest, OAuthError, UnauthorizedClient } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import type { TargetResolver } from '../targets.js';

/** RFC 8707 §2 allows `resource` more than once; every other parameter at most once. */
const REPEATABLE = new Set(['resource']);
/** Shown to the user on a small surface (a notification, a native window): short, plain text. */
export const BINDING_MESSAGE_MAX_LENGTH = 100;
/** What this build does not offer (CIBA §7.1): other hints, user codes, signed requests, ping and push modes. */
const NOT_SUPPORTED: Record<string, string> = {
  id_token_hint: 'only login_hint identifies the user here',
  login_hint_token: 'only login_hint identifies the user here',
  user_code: 'user codes are not supported',
  request: 'signed authentication requests are not supported',
  client_notification_token: 'only the poll delivery mode is supported',
};

export interface BackchannelAuthenticationResponse {
  auth_req_id: string;
  expires_in: number;
  interval: number;
}

/**
 * The backchannel authentication endpoint (OpenID CIBA Core §7, poll mode): a confidential client that
 * cannot send the user to a browser asks for the user's approval. Authenticated as at the token endpoint;
 * validated as an authorization request for that application (its dependencies, the scopes it may have);
 * the user named by `login_hint` (email or id). The request goes into the approval queue, which tells the
 * prompters; the client polls the token endpoint with the `auth_req_id`. Every refusal is audited.
 */
export class BackchannelAuthenticationEndpoint {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly applications: Applications,
    private readonly resources: Resources,
    private readonly targets: TargetResolver,
    private readonly users: Users,
    private readonly approvals: Approvals,
    private readonly consents: Consents,
    private readonly refusals: RefusalRecorder,
    private readonly pause: AgentPause,
  ) {}

  async handle(params: Params, authorization: string | undefined): Promise<BackchannelAuthenticationResponse> {
    let client: AuthenticatedClient | null = null;
    try {
      // Paused agents cannot even ask: nobody is prompted, nothing is queued.
      this.pause.check();
      const duplicate = params.firstDuplicate(REPEATABLE);
      if (duplicate) throw new InvalidRequest(`parameter ${duplicate} was sent more than once`);
      client = await this.clients.authenticate(authorization, params);
      // CIBA §7.1: the client authenticates as at the token endpoint; a public client cannot.
      if (client?.app.clientType !== 'confidential') throw new InvalidClient('backchannel authentication is for confidential clients only; authenticate the client');
      const app = client.app;
      if (!app.grantTypes.includes(GRANT_TYPES.ciba)) throw new UnauthorizedClient('the client may not use the CIBA grant');
      for (const [name, why] of Object.entries(NOT_SUPPORTED)) if (params.has(name)) throw new InvalidRequest(why);
      const known = new Set(['scope', 'resource', 'login_hint', 'binding_message', 'requested_expiry', 'acr_values', ...CLIENT_AUTH_PARAMETERS]);
      const extra = params.names().find((name) => !known.has(name));
      if (extra !== undefined) throw new InvalidRequest('unsupported parameter', { reason: `unsupported parameter ${extra.slice(0, 50)}` });

      const fail = (error: string, description: string, reason?: string): never => {
        throw new OAuthError(error, 400, description, { reason: reason ?? description });
      };
      const resources = this.targets.requestedResources(app, params.all('resource'), fail);
      const scopes = this.targets.requestedScopes(app, resources, params.get('scope'), fail);
      const bindingMessage = params.get('binding_message') ?? null;
      if (bindingMessage !== null) {
        // CIBA §13: invalid_binding_message. Shown in terminals and windows as one line: no control or invisible
        // formatting characters, no line or paragraph separators.
        if (bindingMessage.length === 0 || bindingMessage.length > BINDING_MESSAGE_MAX_LENGTH || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(bindingMessage)) {
          throw new OAuthError('invalid_binding_message', 400, `binding_message must be 1 to ${BINDING_MESSAGE_MAX_LENGTH} characters of plain text`);
        }
      }
      const lifetimeSeconds = this.lifetime(params.get('requested_expiry'));
      // The user last: a client that may not ask cannot probe for users. CIBA §13: unknown_user_id, the same for a disabled user.
      const hint = params.get('login_hint');
      if (hint === undefined) throw new InvalidRequest('login_hint is required: the user\'s email address or id');
      const user = hint.length <= 320 ? this.users.findByIdentifier(hint) : null;
      if (!user?.enabled) throw new OAuthError('unknown_user_id', 400, 'the login_hint does not name a user of this broker', { reason: user ? 'user disabled' : 'unknown user' });

      const identifiers = resources.map((resource) => resource.identifier);
      const downstream = downstreamTree(identifiers, app.maxDelegationDepth, this.applications, this.resources);
      // An approval the user chose to remember (for a while) answers at once; the client's first poll gets the tokens.
      const remembered = this.consents.findRemembered(user.id, app.clientId, identifiers, scopes, downstream);
      const { approval, authReqId } = this.approvals.create({ app, user, scopes, resources: identifiers, downstream, bindingMessage, lifetimeSeconds, remembered });
      return { auth_req_id: authReqId, expires_in: lifetimeSeconds, interval: approval.intervalSeconds };
    } catch (error) {
      if (error instanceof OAuthError) {
        this.refusals.record({ event: 'approval.refused', clientId: client?.app.clientId ?? params.get('client_id'), grantType: GRANT_TYPES.ciba, resource: params.get('resource') }, error);
      }
      throw error;
    }
  }

  /** CIBA §7.1: requested_expiry, a positive integer of seconds; capped at what this broker keeps a request waiting. */
  private lifetime(requested: string | undefined): number {
    if (requested === undefined) return DEFAULT_APPROVAL_LIFETIME_SECONDS;
    if (!/^[1-9][0-9]{0,8}$/.test(requested)) throw new InvalidRequest('requested_expiry must be a positive integer of seconds');
    return Math.min(Number(requested), MAX_APPROVAL_LIFETIME_SECONDS);
  }
}
