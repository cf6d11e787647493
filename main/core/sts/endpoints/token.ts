import { GRANT_TYPE_ALIASES } from '../../../../shared/domain.js';
import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import type { CredentialIssuer, TokenResponse } from '../../tokens/credential-issuer.js';
import type { AgentPause } from '../agent-pause.js';
import { CLIENT_AUTH_PARAMETERS, type AuthenticatedClient, type ClientAuthenticator } from '../client-auth.js';
import { InvalidClient, InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../../oauth/errors.js';
import type { GrantHandler, TokenContext } from '../grants/grant.js';
import type { Params } from '../../oauth/params.js';

/** RFC 8707 §2 and RFC 8693 §2.1 allow `resource` and `audience` more than once. */
const REPEATABLE = new Set(['resource', 'audience']);

export interface TokenRequest {
  params: Params;
  authorization: string | undefined;
  transport: 'tcp' | 'socket';
}

/**
 * The token endpoint as a fixed pipeline (oidc-provider's): refuse duplicates → find the grant →
 * authenticate the client (or let the grant's own credential do it) → check the grant is allowed for it →
 * build the request's context once → the grant decides what to issue from its own parameters → the
 * credential issuer issues it. Every refusal is audited; HTTP is the caller's business.
 */
export class TokenEndpoint {
  private readonly grants: Map<string, GrantHandler>;

  constructor(
    grants: GrantHandler[],
    private readonly clients: ClientAuthenticator,
    private readonly issuer: CredentialIssuer,
    private readonly refusals: RefusalRecorder,
    private readonly pause: AgentPause,
    private readonly clock: Clock,
    private readonly issuerUrl: () => string,
  ) {
    this.grants = new Map(grants.map((grant) => [grant.grantType, grant]));
  }

  get grantTypes(): string[] {
    return [...this.grants.keys()];
  }

  async handle(request: TokenRequest): Promise<TokenResponse> {
    const { params } = request;
    let client: AuthenticatedClient | null = null;
    let grantType: string | undefined;
    try {
      // First: while paused nothing is authenticated, spent or rotated (an assertion's jti, a code, a refresh token).
      this.pause.check();
      const duplicate = params.firstDuplicate(REPEATABLE);
      if (duplicate) throw new InvalidRequest(`parameter ${duplicate} was sent more than once`);
      const asked = params.get('grant_type');
      if (asked === undefined) throw new InvalidRequest('grant_type is required');
      // Own properties only: `constructor` or `__proto__` must not resolve to something of Object.prototype.
      grantType = Object.hasOwn(GRANT_TYPE_ALIASES, asked) ? GRANT_TYPE_ALIASES[asked]! : asked;
      const grant = this.grants.get(grantType);
      if (!grant) throw new UnsupportedGrantType('the grant type is not supported');

      const presented = await this.clients.authenticate(request.authorization, params);
      client = presented;
      const own = params.pick(new Set([...grant.parameters, ...CLIENT_AUTH_PARAMETERS]));
      // A grant that carries its own credential is allowed by holding it; the others by registration.
      const authenticated = grant.authenticate ? await grant.authenticate(own, presented) : registeredFor(grant, presented);
      client = authenticated;
      const context: TokenContext = { client: authenticated, params: own, transport: request.transport, grantType: grant.grantType, now: this.clock.now(), issuer: this.issuerUrl() };
      return await this.issuer.issue(context, await grant.handle(context));
    } catch (error) {
      if (error instanceof OAuthError) this.recordRefusal(error, params, client, grantType);
      throw error;
    }
  }

  private recordRefusal(error: OAuthError, params: Params, client: AuthenticatedClient | null, grantType: string | undefined): void {
    // The claimed client id is recorded as claimed; it is an identifier, not a secret.
    this.refusals.record({ event: 'token.refused', clientId: client?.app.clientId ?? params.get('client_id') ?? null, grantType: grantType ?? null, resource: params.get('resource') ?? null }, error);
  }
}

/** The client the request authenticated, when it may use a grant that needs its registration. */
function registeredFor(grant: GrantHandler, presented: AuthenticatedClient | null): AuthenticatedClient {
  if (!presented) throw new InvalidClient('client authentication is required');
  if (grant.confidentialClientsOnly && presented.app.clientType !== 'confidential') throw new InvalidClient('this grant type is for confidential clients only; authenticate the client');
  if (!presented.app.grantTypes.includes(grant.grantType)) throw new UnauthorizedClient('the client may not use this grant type');
  return presented;
}
