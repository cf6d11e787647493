/**
 * One error family for everything a client can be told (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8693 §2.2.2,
 * RFC 8707 §2, RFC 6750 §3.1). The code and status are the RFC's; the description is safe to show.
 * Internal detail (a stack, a SQL error) never goes into one: it is logged and the client gets a
 * ServerError or TemporarilyUnavailable.
 */
export class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  /** Extra response headers, e.g. WWW-Authenticate on 401. */
  readonly headers: Record<string, string>;
  /** Why, for the audit log; may say more than the client is told, never a secret. */
  readonly reason: string | undefined;
  /** What the audit row of the refusal should carry besides the reason (e.g. a delegation chain). Never a secret. */
  auditDetail: Record<string, unknown> | undefined;

  constructor(error: string, status: number, description?: string, options: { headers?: Record<string, string>; reason?: string; auditDetail?: Record<string, unknown> } = {}) {
    super(description ?? error);
    this.name = new.target.name;
    this.error = error;
    this.status = status;
    this.headers = options.headers ?? {};
    this.reason = options.reason;
    this.auditDetail = options.auditDetail;
  }

  get description(): string | undefined {
    return this.message === this.error ? undefined : this.message;
  }

  toJSON(): { error: string; error_description?: string } {
    const description = this.description;
    return description === undefined ? { error: this.error } : { error: this.error, error_description: description };
  }
}

type Options = ConstructorParameters<typeof OAuthError>[3];

export class InvalidRequest extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_request', 400, description, options); }
}
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed', options?: Options) { super('invalid_client', 401, description, options); }
}
export class InvalidGrant extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_grant', 400, description, options); }
}
export class UnauthorizedClient extends OAuthError {
  constructor(description?: string, options?: Options) { super('unauthorized_client', 400, description, options); }
}
export class UnsupportedGrantType extends OAuthError {
  constructor(description?: string, options?: Options) { super('unsupported_grant_type', 400, description, options); }
}
export class InvalidScope extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_scope', 400, description, options); }
}
/** RFC 8707 §2: the requested resource is invalid, unknown, or not allowed for this client. */
export class InvalidTarget extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_target', 400, description, options); }
}
/**
 * The user must act before this can be issued (OIDC Core §3.1.2.6's code, used at the token endpoint as
 * DESIGN.md §2 says: a hop of a delegation chain that the user's consent does not cover). The description
 * says what the user must do.
 */
export class InteractionRequired extends OAuthError {
  constructor(description: string, options?: Options) { super('interaction_required', 400, description, options); }
}
export class AccessDenied extends OAuthError {
  constructor(description?: string, options?: Options) { super('access_denied', 400, description, options); }
}
/** RFC 7591 §3.2.2: a redirect URI that may not be registered. */
export class InvalidRedirectUri extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_redirect_uri', 400, description, options); }
}
/** RFC 7591 §3.2.2: client metadata that is invalid or that this server does not allow. */
export class InvalidClientMetadata extends OAuthError {
  constructor(description?: string, options?: Options) { super('invalid_client_metadata', 400, description, options); }
}
/** Too many requests (RFC 6585 §4), with Retry-After in seconds. No OAuth code exists for it; this one says "try later". */
export class TooManyRequests extends OAuthError {
  constructor(retryAfterSeconds: number, description = 'too many requests; try again later', options?: Omit<NonNullable<Options>, 'headers'>) {
    super('temporarily_unavailable', 429, description, { ...options, headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}
/** The perimeter's refusal: a foreign Host or Origin. Not an OAuth code, but the same shape. */
export class Forbidden extends OAuthError {
  constructor(description = 'request refused', options?: Options) { super('forbidden', 403, description, options); }
}
export class NotFound extends OAuthError {
  constructor(description = 'not found', options?: Options) { super('not_found', 404, description, options); }
}
export class PayloadTooLarge extends OAuthError {
  constructor(description = 'request body too large', options?: Options) { super('invalid_request', 413, description, options); }
}
export class ServerError extends OAuthError {
  constructor(description = 'internal error', options?: Options) { super('server_error', 500, description, options); }
}
export class TemporarilyUnavailable extends OAuthError {
  constructor(description = 'temporarily unavailable', options?: Options) { super('temporarily_unavailable', 503, description, options); }
}
