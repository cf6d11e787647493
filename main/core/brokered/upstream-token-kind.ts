import { TOKEN_TYPES } from '../../../shared/domain.js';
import type { Clock } from '../clock.js';
import { InvalidTarget, ServerError } from '../oauth/errors.js';
import type { CredentialKind, Issuance, PreparedCredential } from '../tokens/credential-issuer.js';
import type { Providers } from './providers.js';
import type { UpstreamTokens } from './upstream-tokens.js';

/**
 * A brokered resource's credential (issue 5 item 4): the user's upstream access token, cached or refreshed
 * upstream (brokered/upstream-tokens.ts) once policy has allowed it. Its `brokered.released` row names the
 * provider, never a token.
 *
 * The answer (RFC 8693 §2.2.1 shape): `access_token` = the provider's, `issued_token_type` the access-token
 * type, `token_type` Bearer, `expires_in` = what is left of the provider's, plus Latchkey's own refresh token
 * (and ID token) when the grant issues them. No `issued_tokens` row: the token is the provider's, not
 * Latchkey's (introspection answers `active: false` for it); disconnecting the account ends it.
 */
export class UpstreamTokenKind implements CredentialKind {
  readonly credentialType = 'brokered';
  readonly issuedTokenType = TOKEN_TYPES.accessToken;

  constructor(private readonly providers: Providers, private readonly upstream: UpstreamTokens, private readonly clock: Clock) {}

  /** Only a user's own upstream account can be used: with no user there is none to act with (RFC 8707 §2). */
  admit(issuance: Issuance): void {
    if (issuance.userId === null) throw new InvalidTarget('a brokered resource is reached only for a user (user delegation, a chain that started with one, or impersonation)', { reason: 'brokered resource asked for without a user' });
  }

  async prepare(issuance: Issuance): Promise<PreparedCredential> {
    const { resource } = issuance;
    const provider = resource.providerId === null ? null : this.providers.get(resource.providerId);
    if (!provider) throw new ServerError('the resource names no provider', { reason: 'brokered resource without a provider' });
    const upstream = await this.upstream.accessToken(provider, issuance.userId!);
    return {
      event: 'brokered.released',
      accessToken: upstream.token,
      record: () => ({ provider_id: provider.id, upstream_scopes: resource.upstreamScopes.join(' '), upstream_expires_at: upstream.expiresAt }),
      answer: () => ({
        access_token: upstream.token,
        issued_token_type: this.issuedTokenType,
        token_type: 'Bearer',
        // What is left of it now, after the upstream round trip (not at the request's start).
        ...(upstream.expiresAt !== null ? { expires_in: Math.max(0, Math.floor((upstream.expiresAt - this.clock.now()) / 1000)) } : {}),
      }),
    };
  }
}
