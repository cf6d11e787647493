import { GRANT_TYPE_ALIASES } from '../../../../shared/domain.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { TokenResponse } from '../../tokens/issuance.js';
import type { AgentPause } from '../agent-pause.js';
import { CLIENT_AUTH_PARAMETERS, type AuthenticatedClient, type ClientAuthenticator } from '../client-auth.js';
import { InvalidClient, InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../../oauth/errors.js';
import type { GrantHandler } from '../grants/grant.js';
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
 * authenticate the client → check the grant is allowed for it → hand the grant only its own parameters.
 * Every refusal is audited; HTTP is the caller's business.
 */
export class TokenEndpoint {
  private readonly grants: Map<string, GrantHandler>;

  constructor(grants: GrantHandler[], private readonly clients: ClientAuthenticator, private readonly audit: AuditLog, private readonly pause: AgentPause) {
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

      client = await this.clients.authenticate(request.authorization, params);
      if (!client && !grant.authenticatesItself) throw new InvalidClient('client authentication is required');
      if (grant.confidentialClientsOnly && client?.app.clientType !== 'confidential') throw new InvalidClient('this grant type is for confidential clients only; authenticate the client');
      // Grants that carry their own credential are allowed by holding it; the others by registration.
      if (client && !grant.authenticatesItself && !client.app.grantTypes.includes(grant.grantType)) {
        throw new UnauthorizedClient('the client may not use this grant type');
      }
      return await grant.handle({
        client,
        params: params.pick(new Set([...grant.parameters, ...CLIENT_AUTH_PARAMETERS])),
        transport: request.transport,
      });
    } catch (error) {
      if (error instanceof OAuthError) this.recordRefusal(error, params, client, grantType);
      throw error;
    }
  }

  private recordRefusal(error: OAuthError, params: Params, client: AuthenticatedClient | null, grantType: string | undefined): void {
    try {
      this.audit.record({
        event: 'token.refused',
        decision: 'deny',
        // The claimed client id is recorded as claimed; it is an identifier, not a secret.
        clientId: client?.app.clientId ?? params.get('client_id')?.slice(0, 200) ?? null,
        grantType: grantType?.slice(0, 200) ?? null,
        resource: params.get('resource')?.slice(0, 2048) ?? null,
        reason: `${error.error}: ${error.reason ?? error.description ?? ''}`.slice(0, 500),
        ...(error.auditDetail ? { detail: error.auditDetail } : {}),
      });
    } catch {
      // The refusal stands whether or not it could be recorded; issuing is what must never go unrecorded.
    }
  }
}
