// Latchkey's client for agents on this machine (README "Agents"): fresh, cached credentials from the
// local broker, token exchange and impersonation, over the local socket or loopback HTTP.
export { LatchkeyClient, credentialsFromEnv } from './latchkey-client.js';
export type { ClientCredentials, Credential, ExchangeRequest, ImpersonationRequest, LatchkeyClientOptions, TokenRequest, TokenResponse } from './latchkey-client.js';
export type { BrokerEndpoint } from './transport.js';
export { LatchkeyConfigurationError, LatchkeyError, LatchkeyOAuthError, LatchkeyResponseError, LatchkeyUnreachableError } from './errors.js';
