/**
 * Everything the client throws. A message never carries a credential: the client's own messages name
 * what is wrong, never a value it was given to keep secret, and what the broker says is redacted of
 * the client's secret before it is kept (the broker never echoes one; this is the second lock).
 */
export class LatchkeyError extends Error {
  override name = 'LatchkeyError';
}

/** The broker refused (RFC 6749 §5.2): `error` is the OAuth error code, `errorDescription` its reason. */
export class LatchkeyOAuthError extends LatchkeyError {
  override name = 'LatchkeyOAuthError';

  constructor(readonly error: string, readonly errorDescription: string | undefined, readonly status: number) {
    super(errorDescription ? `${error}: ${errorDescription}` : error);
  }
}

/** The broker could not be reached (no socket, nothing listening, no answer in time). */
export class LatchkeyUnreachableError extends LatchkeyError {
  override name = 'LatchkeyUnreachableError';

  constructor(readonly endpoint: string, reason: string) {
    super(`cannot reach the broker at ${endpoint}: ${reason}`);
  }
}

/** The broker answered something that is neither a token response nor an OAuth error. */
export class LatchkeyResponseError extends LatchkeyError {
  override name = 'LatchkeyResponseError';

  constructor(readonly status: number, reason: string) {
    super(`the broker's answer (HTTP ${status}) ${reason}`);
  }
}

/** The client is not set up to make the request: missing credentials, no broker in the data dir, a bad endpoint. */
export class LatchkeyConfigurationError extends LatchkeyError {
  override name = 'LatchkeyConfigurationError';
}
