import type { GrantType } from '../../../../shared/domain.js';
import type { TokenResponse } from '../../tokens/issuance.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { Params } from '../../oauth/params.js';

export interface GrantContext {
  /** The client that authenticated at the endpoint; null when the grant authenticates itself. */
  client: AuthenticatedClient | null;
  /** Only the grant's own parameters (its `parameters` list). */
  params: Params;
  /** The listener the request came in on; what only this machine's user may do asks for 'socket'. */
  transport: 'tcp' | 'socket';
}

/**
 * A grant handler (fosite's shape): knows nothing of HTTP, gets only its own parameters and the narrow
 * services it was constructed with, and either returns a token response or throws an OAuthError.
 */
export interface GrantHandler {
  readonly grantType: GrantType;
  readonly parameters: ReadonlySet<string>;
  /** Whether the grant's own credential identifies the client (API key, JWT bearer assertion). */
  readonly authenticatesItself: boolean;
  /**
   * Whether only a confidential client may use the grant: a public client is then `invalid_client`
   * before anything else is looked at (RFC 6749 §5.2: the grant needs client authentication it cannot give).
   */
  readonly confidentialClientsOnly?: boolean;
  handle(context: GrantContext): Promise<TokenResponse>;
}
