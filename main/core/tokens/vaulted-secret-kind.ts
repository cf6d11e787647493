import { TOKEN_TYPES } from '../../../shared/domain.js';
import type { ResourceSecrets } from '../directory/resource-secrets.js';
import { TemporarilyUnavailable } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import type { CredentialKind, Issuance, PreparedCredential } from './credential-issuer.js';

/**
 * A vaulted resource's static secret (issue 5 item 3), read from the vault inside the durable write that
 * appends its `secret.released` row: the row names when the released secret was set (which version), never
 * the value.
 *
 * The answer (RFC 8693 §2.2.1 shape): `access_token` = the secret, `issued_token_type` =
 * `urn:latchkey:params:oauth:token-type:static-secret`, `token_type` `N_A` (it is not a bearer token of
 * Latchkey's), no refresh token, no `scope`, and no `expires_in`: Latchkey does not know when a static
 * secret stops working, an advisory figure would be invented, and without one the agent client never
 * caches it (client/token-cache.ts), so every use is a fresh audited read that sees a rotation at once.
 * No `issued_tokens` row: there is no jti, so introspection answers `active: false` and revocation 200
 * for it (RFC 7662 §2.2, RFC 7009 §2.2); a static secret is ended by rotating it.
 */
export class VaultedSecretKind implements CredentialKind {
  readonly credentialType = 'vaulted';
  readonly issuedTokenType = TOKEN_TYPES.staticSecret;

  constructor(private readonly secrets: ResourceSecrets) {}

  async prepare(issuance: Issuance): Promise<PreparedCredential> {
    const identifier = issuance.resource.identifier;
    let secret: string | null = null;
    return {
      event: 'secret.released',
      record: () => {
        try {
          secret = this.secrets.reveal(identifier);
        } catch (error) {
          if (error instanceof VaultError) throw new TemporarilyUnavailable('the broker cannot release this secret right now (vault locked or unreadable)', { reason: `secret not released: ${error.code}` });
          throw error;
        }
        if (secret === null) throw new TemporarilyUnavailable('the resource has no secret stored', { reason: 'vaulted resource without a vault item' });
        return { secret_set_at: this.secrets.setAtOf(identifier) };
      },
      answer: () => ({ access_token: secret!, issued_token_type: this.issuedTokenType, token_type: 'N_A' }),
    };
  }
}
