import type { GrantType } from '../../../../shared/domain.js';
import type { Issuance, IssueContext } from '../../tokens/credential-issuer.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { Params } from '../../oauth/params.js';

/**
 * One token request, built once by the token endpoint (tokens/credential-issuer.ts takes the same context):
 * the authenticated client, never null (a grant that carries its own credential supplies it through its
 * `authenticate` step), only the grant's own parameters, the listener, one clock reading and the issuer.
 */
export interface TokenContext extends IssueContext {
  client: AuthenticatedClient;
  params: Params;
}

/**
 * A grant handler (fosite's shape): knows nothing of HTTP, gets only its own parameters and the narrow
 * services it was constructed with, and decides what to issue (an Issuance) or throws an OAuthError. It
 * never mints, records or answers: the credential issuer does that, the same way for every grant.
 */
export interface GrantHandler {
  readonly grantType: GrantType;
  readonly parameters: ReadonlySet<string>;
  /**
   * Present when the grant's own credential identifies the client (API key, JWT bearer assertion): it returns
   * the client the credential belongs to. `presented` is the client the request also authenticated, if any.
   */
  authenticate?(params: Params, presented: AuthenticatedClient | null): Promise<AuthenticatedClient>;
  /**
   * Whether only a confidential client may use the grant: a public client is then `invalid_client`
   * before anything else is looked at (RFC 6749 §5.2: the grant needs client authentication it cannot give).
   */
  readonly confidentialClientsOnly?: boolean;
  handle(context: TokenContext): Promise<Issuance>;
}
