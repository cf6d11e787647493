import { CLIENT_AUTH_METHODS } from '../../../../shared/domain.js';
import { ASSERTION_ALGORITHMS } from '../../directory/jwks.js';
import type { IssuerUrls } from '../issuer.js';

/**
 * Authorization server metadata (RFC 8414) and OIDC discovery. Built from the issuer the listener was
 * given, never from request headers (§3: the issuer must be exactly the configured one).
 */
export function serverMetadata(urls: IssuerUrls, grantTypes: readonly string[]): Record<string, unknown> {
  const authMethods = CLIENT_AUTH_METHODS.filter((method) => method !== 'none');
  return {
    issuer: urls.issuer,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspection,
    revocation_endpoint: urls.revocation,
    grant_types_supported: [...grantTypes],
    // No authorization endpoint yet, so no response type; OAuth 2.1 will only ever offer `code`.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    introspection_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    access_token_signing_alg_values_supported: ['ES256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'act', 'delegation_depth', 'grant_type', 'identity_type', 'sub_type', 'trust_level'],
  };
}
