// Domain vocabulary shared by the broker, the CLI and the renderer. Plain data: no Node, no Electron.

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment (at most 2048 characters here). */
export function isResourceIdentifier(value: string): boolean {
  if (value.length > 2048 || value.includes('#')) return false;
  try {
    const url = new URL(value);
    return url.hash === '' && url.protocol.length > 1;
  } catch {
    return false;
  }
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), at most 256 characters here. */
export const isScopeToken = (value: string): boolean => value.length <= 256 && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(value);

export const IDENTITY_TYPES = ['agent', 'service', 'application', 'mcp_server'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const CONSENT_MODES = ['explicit', 'implicit'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];

export const CREDENTIAL_TYPES = ['token', 'vaulted', 'brokered'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export const GRANT_TYPES = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  clientCredentials: 'client_credentials',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  apiKey: 'urn:latchkey:params:oauth:grant-type:api-key',
  /** OpenID CIBA (Core 1.0 §10.1), poll mode: an agent without a browser waits for the user's approval. */
  ciba: 'urn:openid:params:grant-type:ciba',
} as const;
export type GrantType = (typeof GRANT_TYPES)[keyof typeof GRANT_TYPES];

/** Short names accepted wherever a grant type is named (CLI flags, the token endpoint for api_key). */
export const GRANT_TYPE_ALIASES: Readonly<Record<string, GrantType>> = {
  api_key: GRANT_TYPES.apiKey,
  'api-key': GRANT_TYPES.apiKey,
  jwt_bearer: GRANT_TYPES.jwtBearer,
  'jwt-bearer': GRANT_TYPES.jwtBearer,
  token_exchange: GRANT_TYPES.tokenExchange,
  'token-exchange': GRANT_TYPES.tokenExchange,
  ciba: GRANT_TYPES.ciba,
};

/**
 * The OpenID Connect scopes (OIDC Core §5.4, §11), open to every client allowed authorization_code.
 * Every other scope belongs to a resource.
 */
export const IDENTITY_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

/** How strongly a client proved who it is, carried in tokens as `trust_level`. */
export const TRUST_LEVELS = ['none', 'api_key', 'shared_secret', 'key_bound'] as const;
export type TrustLevel = (typeof TRUST_LEVELS)[number];

export const API_KEY_PREFIX = 'lk_sk_';

/** RFC 8693 §3: token type identifiers. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  /** Impersonation (issue 4 item 2): the subject token is a user's identifier; only over the local socket. */
  substituteUser: 'urn:latchkey:params:oauth:token-type:substitute-user',
  /** A vaulted resource's static secret (issue 5 item 3), handed out as it is with token_type N_A. */
  staticSecret: 'urn:latchkey:params:oauth:token-type:static-secret',
} as const;

/** How many exchanges may follow one another when an application does not say (applications.max_delegation_depth). */
export const DEFAULT_MAX_DELEGATION_DEPTH = 3;

/** What ID tokens may be signed with (OIDC Core §3.1.3.7; RS256 is the default). */
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

/** The vault's state as the broker reports it (the admin API's `GET /api/vault` answers it as it is). */
export interface VaultStatus {
  state: 'unlocked' | 'locked' | 'uninitialized';
  backend: 'keychain' | 'passphrase' | null;
  /** Why the vault is locked, and what to do about it. */
  message: string | null;
}
