import { CLIENT_AUTH_METHODS, ID_TOKEN_ALGS, IDENTITY_SCOPES } from '../../../../shared/domain.js';
import { ASSERTION_ALGORITHMS } from '../../directory/jwks.js';
import type { IssuerUrls } from '../issuer.js';
import { CODE_CHALLENGE_METHODS } from '../pkce.js';

/**
 * Authorization server metadata (RFC 8414) and OIDC discovery. Built from the issuer the listener was
 * given, never from request headers (§3: the issuer must be exactly the configured one).
 */
export function serverMetadata(urls: IssuerUrls, grantTypes: readonly string[]): Record<string, unknown> {
  const authMethods = CLIENT_AUTH_METHODS.filter((method) => method !== 'none');
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.authorization,
    token_endpoint: urls.token,
    userinfo_endpoint: urls.userinfo,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspection,
    revocation_endpoint: urls.revocation,
    // RFC 7591: open registration of public clients (authorization code + PKCE), for MCP clients.
    registration_endpoint: urls.registration,
    grant_types_supported: [...grantTypes],
    // OAuth 2.1 §4.1: the authorization code flow only; no implicit, no hybrid.
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // The OIDC scopes; every other scope belongs to a resource and is listed with it.
    scopes_supported: [...IDENTITY_SCOPES],
    prompt_values_supported: ['none', 'consent', 'login'],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    introspection_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS.filter((alg) => alg !== 'Ed25519')],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGS],
    access_token_signing_alg_values_supported: ['ES256'],
    // OpenID CIBA Core §4: poll mode only, identified by login_hint, unsigned requests, no user codes.
    backchannel_authentication_endpoint: urls.backchannelAuthentication,
    backchannel_token_delivery_modes_supported: ['poll'],
    backchannel_user_code_parameter_supported: false,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'name', 'email', 'email_verified',
      'jti', 'client_id', 'scope', 'act', 'delegation_depth', 'grant_type', 'identity_type', 'sub_type', 'trust_level'],
  };
}
