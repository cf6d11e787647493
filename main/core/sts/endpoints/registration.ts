import { GRANT_TYPES, ID_TOKEN_ALGS, type GrantType, type IdTokenAlg, isScopeToken } from '../../../../shared/domain.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Application, Applications } from '../../directory/applications.js';
import type { TokenBucket } from '../../transport/token-bucket.js';
import { InvalidClientMetadata, InvalidRedirectUri, OAuthError, TooManyRequests } from '../../oauth/errors.js';
import { redirectUriProblem } from '../../oauth/redirect-uri.js';

export interface RegistrationLimits {
  /** Registrations per minute once the burst is spent, for the whole broker. */
  perMinute: number;
  burst: number;
  /** How many dynamically registered clients may exist at once (the admin deletes unused ones). */
  maxClients: number;
}

/**
 * 10 a minute after a burst of 5: an MCP client registers once per install, so a person never comes near
 * it, while a local process looping on registration is slowed to a trickle. Per broker rather than per
 * caller: every caller is 127.0.0.1, so there is nothing to tell callers apart by.
 */
export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = { perMinute: 10, burst: 5, maxClients: 200 };

export const CLIENT_NAME_MAX_LENGTH = 100;
const REDIRECT_URIS_MAX = 10;
const DEFAULT_CLIENT_NAME = 'Unnamed application';
/** The grants anonymous registration can give: a user's delegation, nothing autonomous (issue 3 item 7). */
const REGISTRABLE_GRANTS: readonly GrantType[] = [GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken];

/** RFC 7591 §3.2.1: the registered metadata, as the response echoes it. */
export interface ClientInformation {
  client_id: string;
  client_id_issued_at: number;
  client_name: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'none';
  id_token_signed_response_alg: IdTokenAlg;
}

interface ClientMetadata {
  name: string;
  redirectUris: string[];
  grantTypes: GrantType[];
  idTokenAlg: IdTokenAlg;
}

/**
 * Dynamic client registration (RFC 7591) for MCP clients and other native apps: anonymous, so it can
 * only make what anyone may have: a public client (PKCE is its only proof) with the authorization code
 * and refresh grants, its redirect URIs checked by the same rules as the admin's, a name shown as
 * unverified. It gets no dependencies: whatever it asks for, the user's consent decides, every time.
 * Only the metadata Latchkey uses is kept; anything else sent is dropped and never echoed.
 */
export class RegistrationEndpoint {
  constructor(
    private readonly applications: Applications,
    private readonly audit: AuditLog,
    private readonly refusals: RefusalRecorder,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly bucket: TokenBucket,
    private readonly maxClients: number,
  ) {}

  /** Before the body is read: the rate limit (429 with Retry-After). */
  admit(): void {
    const taken = this.bucket.take();
    if (!taken.ok) throw new TooManyRequests(taken.retryAfterSeconds, 'too many registrations; try again later', { reason: 'registration rate limit' });
  }

  /** POST /oauth2/register with a parsed JSON body. Answers the registered client or throws (and audits) the RFC 7591 §3.2.2 error. */
  register(body: unknown): ClientInformation {
    try {
      const metadata = parseClientMetadata(body);
      return this.transaction(() => {
        // Counted inside the write transaction, so two registrations cannot both take the last place.
        if (this.applications.countDynamic() >= this.maxClients) {
          throw new OAuthError('access_denied', 403, 'no more clients may register; ask the Latchkey admin to delete unused ones', { reason: `at the cap of ${this.maxClients} dynamically registered clients` });
        }
        const app = this.applications.createDynamic(metadata);
        this.audit.append({ event: 'client.registered', decision: 'allow', clientId: app.clientId, reason: 'dynamic registration (RFC 7591)',
          detail: { name: app.name, redirect_uris: app.redirectUris, grant_types: app.grantTypes } });
        return clientInformation(app);
      });
    } catch (error) {
      if (error instanceof OAuthError) this.refusals.record({ event: 'client.registration_refused' }, error);
      throw error;
    }
  }
}

function clientInformation(app: Application): ClientInformation {
  return {
    client_id: app.clientId,
    client_id_issued_at: Math.floor(app.createdAt / 1000),
    client_name: app.name,
    redirect_uris: app.redirectUris,
    grant_types: app.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: app.idTokenAlg,
  };
}

/** The metadata of RFC 7591 §2 that Latchkey keeps, validated; the rest of the body is ignored. */
function parseClientMetadata(body: unknown): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidClientMetadata('the body must be a JSON object of client metadata');
  const field = (name: string): unknown => (Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined);

  const redirectUris = field('redirect_uris');
  if (redirectUris === undefined) throw new InvalidRedirectUri('redirect_uris is required');
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > REDIRECT_URIS_MAX || !redirectUris.every((uri) => typeof uri === 'string')) {
    throw new InvalidRedirectUri(`redirect_uris must be an array of 1 to ${REDIRECT_URIS_MAX} URIs`);
  }
  for (const [index, uri] of (redirectUris as string[]).entries()) {
    // The rules `latchkey app create --redirect-uri` applies (RFC 8252 §7, OAuth 2.1 §2.3.1). The URI is not echoed.
    const problem = redirectUriProblem(uri);
    if (problem) throw new InvalidRedirectUri(`redirect_uris[${index}] ${problem}`);
  }

  // A public client only: a secret or a key would make it confidential, which anonymous registration cannot vouch for.
  const authMethod = field('token_endpoint_auth_method') ?? 'none';
  if (authMethod !== 'none') throw new InvalidClientMetadata('token_endpoint_auth_method must be none: only public clients may register', { reason: `token_endpoint_auth_method ${String(authMethod).slice(0, 50)}` });
  if (field('jwks') !== undefined || field('jwks_uri') !== undefined) throw new InvalidClientMetadata('a public client registers no keys (jwks, jwks_uri)');

  // RFC 7591 §2: grant_types defaults to authorization_code, response_types to code.
  const grantTypes = stringList(field('grant_types'), 'grant_types') ?? [GRANT_TYPES.authorizationCode];
  const refused = grantTypes.find((grant) => !(REGISTRABLE_GRANTS as readonly string[]).includes(grant));
  if (refused !== undefined) throw new InvalidClientMetadata('grant_types may only be authorization_code and refresh_token', { reason: `grant type ${refused.slice(0, 100)}` });
  if (!grantTypes.includes(GRANT_TYPES.authorizationCode)) throw new InvalidClientMetadata('grant_types must include authorization_code');
  const responseTypes = stringList(field('response_types'), 'response_types') ?? ['code'];
  // OAuth 2.1 §4.1: code only; `token` (the implicit grant) is gone.
  if (responseTypes.some((type) => type !== 'code')) throw new InvalidClientMetadata('response_types may only be code');

  const name = field('client_name');
  if (name !== undefined && typeof name !== 'string') throw new InvalidClientMetadata('client_name must be a string');
  const trimmed = name?.trim();
  if (trimmed !== undefined) {
    if (trimmed.length === 0 || trimmed.length > CLIENT_NAME_MAX_LENGTH) throw new InvalidClientMetadata(`client_name must be 1 to ${CLIENT_NAME_MAX_LENGTH} characters`);
    // Shown on the consent page (escaped) and printed by the CLI: no control characters (terminal escapes)
    // and no invisible format characters (bidi overrides, zero-width joiners) to spoof another name with.
    if (/[\p{Cc}\p{Cf}]/u.test(trimmed)) throw new InvalidClientMetadata('client_name may not contain control or invisible formatting characters');
  }

  // `scope` is well-formed or refused, and not kept: what a dynamic client gets is decided per request by
  // the user's consent, never by what it claimed at registration.
  const scope = field('scope');
  if (scope !== undefined && (typeof scope !== 'string' || scope.length > 1000 || !scope.split(' ').filter(Boolean).every((token) => isScopeToken(token)))) {
    throw new InvalidClientMetadata('scope must be a space-separated list of scope tokens');
  }

  // OIDC Dynamic Client Registration §2: RS256 unless the client names another algorithm Latchkey signs with.
  const idTokenAlg = field('id_token_signed_response_alg') ?? 'RS256';
  if (!(ID_TOKEN_ALGS as readonly unknown[]).includes(idTokenAlg)) throw new InvalidClientMetadata(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);

  return {
    name: trimmed ?? DEFAULT_CLIENT_NAME,
    redirectUris: [...new Set(redirectUris as string[])],
    grantTypes: [...new Set(grantTypes)] as GrantType[],
    idTokenAlg: idTokenAlg as IdTokenAlg,
  };
}

function stringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 10 || !value.every((item) => typeof item === 'string')) throw new InvalidClientMetadata(`${name} must be a non-empty array of strings`);
  return value as string[];
}
