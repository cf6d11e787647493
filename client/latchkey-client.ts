import { GRANT_TYPES, TOKEN_TYPES } from '../shared/domain.js';
import { LatchkeyConfigurationError, LatchkeyOAuthError, LatchkeyResponseError } from './errors.js';
import { TokenCache, type Cached } from './token-cache.js';
import { BrokerTransport, type BrokerEndpoint } from './transport.js';

/** How the client proves who it is: its id and secret (client_secret_basic), or an API key (`lk_sk_…`). */
export type ClientCredentials = { clientId: string; clientSecret: string } | { apiKey: string };

/** The token endpoint's answer (RFC 6749 §5.1, RFC 8693 §2.2.1), as the broker sent it. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  issued_token_type?: string;
  [other: string]: unknown;
}

export interface Credential {
  /** The credential itself: a JWT access token, or a vaulted or brokered secret (see `issuedTokenType`). */
  accessToken: string;
  tokenType: string;
  /** The scopes granted, as the broker named them. */
  scope: string[];
  issuedTokenType: string | undefined;
  /** When it expires, in ms since the epoch by the client's clock; undefined when the broker gave no lifetime. */
  expiresAt: number | undefined;
  /** The token response as received (what `latchkey token --json` prints). */
  response: TokenResponse;
}

export interface TokenRequest {
  /** The resource identifier (RFC 8707): the token's `aud`. */
  resource: string;
  scope?: readonly string[];
  /** Act as this user (their email or user id): impersonation, only where the user and an admin set it up. */
  asUser?: string;
}

export interface ExchangeRequest {
  /** The token the requester received (RFC 8693 §2.1). */
  subjectToken: string;
  /** Default `urn:ietf:params:oauth:token-type:access_token`. */
  subjectTokenType?: string;
  resource: string;
  scope?: readonly string[];
  /** The requester's own access token, or an assertion signed with its registered key. */
  actorToken?: string;
  /** Default `urn:ietf:params:oauth:token-type:access_token`; `urn:ietf:params:oauth:token-type:jwt` for an assertion. */
  actorTokenType?: string;
}

export interface ImpersonationRequest {
  /** The user's email or user id (`usr_…`). */
  user: string;
  resource: string;
  scope?: readonly string[];
}

export interface LatchkeyClientOptions {
  /** The broker's socket or loopback issuer; `LatchkeyClient.fromDataDir` reads it from runtime.json. */
  endpoint: BrokerEndpoint;
  credentials: ClientCredentials;
  /** The clock the cache judges expiry by (ms since the epoch); tests pass their own. */
  now?: () => number;
  timeoutMs?: number;
}

const TOKEN_PATH = '/oauth2/token';

/** A token request: its form, and the header that authenticates the client (none for an API key). */
interface Grant {
  form: URLSearchParams;
  headers: Record<string, string>;
}

/**
 * A typed client for agents on this machine: fresh credentials for a resource from the local broker,
 * cached in memory and renewed before they expire, plus token exchange (RFC 8693) and impersonation.
 * It speaks plain OAuth over the local socket or loopback HTTP; nothing in it is private to Latchkey's
 * process, so any language can do the same.
 */
export class LatchkeyClient {
  private readonly transport: BrokerTransport;
  private readonly credentials: ClientCredentials;
  private readonly now: () => number;
  private readonly cache: TokenCache<Credential>;

  constructor(options: LatchkeyClientOptions) {
    this.transport = new BrokerTransport(options.endpoint, options.timeoutMs);
    this.credentials = checkCredentials(options.credentials);
    this.now = options.now ?? Date.now;
    this.cache = new TokenCache(this.now);
  }

  /** A client for the broker running on DATA_DIR (the endpoint its runtime.json names). */
  static fromDataDir(dataDir: string, credentials: ClientCredentials, options: Omit<LatchkeyClientOptions, 'endpoint' | 'credentials'> = {}): LatchkeyClient {
    return new LatchkeyClient({ ...options, credentials, endpoint: BrokerTransport.fromDataDir(dataDir).endpoint });
  }

  /** Where requests go: the socket's path or the issuer's URL. */
  get address(): string {
    return this.transport.address;
  }

  /**
   * A credential for the resource: from the cache while it has more than min(60 s, 10 % of its
   * lifetime) left, else a fresh one (client_credentials, the API-key grant, or impersonation with
   * `asUser`). Concurrent calls for the same resource, scopes and user share one request.
   */
  getToken(request: TokenRequest): Promise<Credential> {
    const scope = normalizeScope(request.scope);
    const key = JSON.stringify([request.resource, scope, request.asUser ?? null]);
    const { resource, asUser } = request;
    return this.cache.get(key, () => this.cacheable(asUser === undefined
      ? this.autonomousGrant(resource, scope)
      : this.impersonationGrant({ user: asUser, resource, scope })));
  }

  /**
   * Token exchange (RFC 8693): the token this agent received for itself, exchanged for one to the
   * resource it calls next, acting for the same subject. Never cached (each subject token is its own).
   * Needs the client's id and secret: an API key does not authenticate a client for this grant.
   */
  async exchange(request: ExchangeRequest): Promise<Credential> {
    const form = new URLSearchParams({
      grant_type: GRANT_TYPES.tokenExchange,
      subject_token: request.subjectToken,
      subject_token_type: request.subjectTokenType ?? TOKEN_TYPES.accessToken,
      resource: request.resource,
    });
    addScope(form, normalizeScope(request.scope));
    if (request.actorToken !== undefined) {
      form.set('actor_token', request.actorToken);
      form.set('actor_token_type', request.actorTokenType ?? TOKEN_TYPES.accessToken);
    }
    return this.requestToken(this.clientAuthenticated(form, 'token exchange'));
  }

  /**
   * Impersonation: a credential for the resource as if the user had asked, by a token exchange whose
   * subject token is the user's identifier (`urn:latchkey:params:oauth:token-type:substitute-user`).
   * The broker allows it only over its local socket, for an application an admin allowed to, in
   * consent mode implicit, after the user set up background access. Not cached; `getToken({ asUser })` is.
   */
  async impersonate(request: ImpersonationRequest): Promise<Credential> {
    return this.requestToken(this.impersonationGrant({ ...request, scope: normalizeScope(request.scope) }));
  }

  /** Forgets every cached credential (e.g. after the agent learns one was revoked). */
  clearCache(): void {
    this.cache.clear();
  }

  private autonomousGrant(resource: string, scope: string[]): Grant {
    if ('apiKey' in this.credentials) {
      const form = new URLSearchParams({ grant_type: GRANT_TYPES.apiKey, api_key: this.credentials.apiKey, resource });
      addScope(form, scope);
      return { form, headers: {} };
    }
    const form = new URLSearchParams({ grant_type: GRANT_TYPES.clientCredentials, resource });
    addScope(form, scope);
    return this.clientAuthenticated(form, 'client credentials');
  }

  private impersonationGrant({ user, resource, scope }: { user: string; resource: string; scope: string[] }): Grant {
    const form = new URLSearchParams({
      grant_type: GRANT_TYPES.tokenExchange,
      subject_token: user,
      subject_token_type: TOKEN_TYPES.substituteUser,
      resource,
    });
    addScope(form, scope);
    return this.clientAuthenticated(form, 'impersonation');
  }

  /** client_secret_basic; RFC 6749 §2.3.1: each half form-urlencoded, then base64. */
  private clientAuthenticated(form: URLSearchParams, what: string): Grant {
    if (!('clientSecret' in this.credentials)) {
      throw new LatchkeyConfigurationError(`${what} needs the client's id and secret (LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET): an API key does not authenticate a client for it`);
    }
    const { clientId, clientSecret } = this.credentials;
    return { form, headers: { authorization: `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}` } };
  }

  /** Fetches for the cache, which measures the lifetime from the moment of asking. */
  private async cacheable(grant: Grant): Promise<Cached<Credential>> {
    const obtainedAt = this.now();
    const credential = await this.requestToken(grant);
    return { value: credential, obtainedAt, expiresAt: credential.expiresAt };
  }

  private async requestToken({ form, headers }: Grant): Promise<Credential> {
    const asked = this.now();
    const answer = await this.transport.postForm(TOKEN_PATH, form, headers);
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      throw new LatchkeyResponseError(answer.status, 'is not JSON');
    }
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (answer.status !== 200) {
      if (typeof fields.error !== 'string') throw new LatchkeyResponseError(answer.status, 'is neither a token nor an OAuth error');
      const description = typeof fields.error_description === 'string' ? this.redact(fields.error_description) : undefined;
      throw new LatchkeyOAuthError(this.redact(fields.error), description, answer.status);
    }
    if (typeof fields.access_token !== 'string' || typeof fields.token_type !== 'string') throw new LatchkeyResponseError(answer.status, 'has no access_token or token_type');
    const response = fields as TokenResponse;
    const lifetime = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in * 1000 : undefined;
    return {
      accessToken: response.access_token,
      tokenType: response.token_type,
      scope: typeof response.scope === 'string' ? response.scope.split(' ').filter(Boolean) : [],
      issuedTokenType: typeof response.issued_token_type === 'string' ? response.issued_token_type : undefined,
      expiresAt: lifetime === undefined ? undefined : asked + lifetime,
      response,
    };
  }

  private redact(text: string): string {
    const secret = 'apiKey' in this.credentials ? this.credentials.apiKey : this.credentials.clientSecret;
    return text.split(secret).join('[redacted]');
  }
}

function checkCredentials(credentials: ClientCredentials): ClientCredentials {
  if ('apiKey' in credentials) {
    if (!credentials.apiKey) throw new LatchkeyConfigurationError('the API key is empty');
    return { apiKey: credentials.apiKey };
  }
  if (!credentials.clientId) throw new LatchkeyConfigurationError('the client id is empty');
  if (!credentials.clientSecret) throw new LatchkeyConfigurationError('the client secret is empty');
  return { clientId: credentials.clientId, clientSecret: credentials.clientSecret };
}

/**
 * The credentials in an agent's environment: LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET, or
 * LATCHKEY_API_KEY. Both kinds at once is refused: which one is meant would be a guess.
 */
export function credentialsFromEnv(env: Record<string, string | undefined> = process.env): ClientCredentials {
  const clientId = env.LATCHKEY_CLIENT_ID || undefined;
  const clientSecret = env.LATCHKEY_CLIENT_SECRET || undefined;
  const apiKey = env.LATCHKEY_API_KEY || undefined;
  if (apiKey && clientSecret) throw new LatchkeyConfigurationError('both LATCHKEY_API_KEY and LATCHKEY_CLIENT_SECRET are set: set one of them');
  if (apiKey) return { apiKey };
  if (clientId && clientSecret) return { clientId, clientSecret };
  if (clientId) throw new LatchkeyConfigurationError('LATCHKEY_CLIENT_ID is set but LATCHKEY_CLIENT_SECRET is not');
  if (clientSecret) throw new LatchkeyConfigurationError('LATCHKEY_CLIENT_SECRET is set but LATCHKEY_CLIENT_ID is not');
  throw new LatchkeyConfigurationError('no client credentials: set LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET, or LATCHKEY_API_KEY');
}

/** Scopes once each, in order: the cache key and the request agree on what was asked. */
function normalizeScope(scope: readonly string[] | undefined): string[] {
  return [...new Set((scope ?? []).flatMap((value) => value.split(' ')).filter(Boolean))].sort();
}

function addScope(form: URLSearchParams, scope: string[]): void {
  if (scope.length > 0) form.set('scope', scope.join(' '));
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks of each half of Basic credentials. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);
