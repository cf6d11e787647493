import type { ClientAuthMethod, TrustLevel } from '../../../shared/domain.js';
import type { Application, Applications } from '../directory/applications.js';
import { hashSecret, secretMatches } from '../store/credentials.js';
import { AssertionRejected, type AssertionVerifier } from './assertions.js';
import { InvalidClient, InvalidRequest } from '../oauth/errors.js';
import type { Params } from '../oauth/params.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AuthenticatedClient {
  app: Application;
  method: ClientAuthMethod;
  trustLevel: TrustLevel;
}

const TRUST: Record<ClientAuthMethod, TrustLevel> = {
  none: 'none',
  client_secret_basic: 'shared_secret',
  client_secret_post: 'shared_secret',
  private_key_jwt: 'key_bound',
};

/** Compared against when the client is unknown, so an unknown client costs what a known one does. */
const DECOY_HASH = hashSecret('decoy');

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="latchkey", charset="UTF-8"' };

/** The client authentication parameters; endpoints add them to every grant's own allowlist. */
export const CLIENT_AUTH_PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/**
 * Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
 * RFC 7523 §2.2, OAuth 2.1 §2.4): exactly one method per request.
 */
export class ClientAuthenticator {
  constructor(
    private readonly applications: Applications,
    private readonly assertions: AssertionVerifier,
    /** The audiences a client assertion may name: the issuer and the token endpoint URL. */
    private readonly assertionAudiences: () => readonly string[],
  ) {}

  /**
   * Returns the authenticated client, or null when the request carries no client identification at all
   * (grants that authenticate themselves, such as API keys, decide what that means).
   */
  async authenticate(authorization: string | undefined, params: Params): Promise<AuthenticatedClient | null> {
    const basic = parseBasic(authorization);
    const postSecret = params.get('client_secret');
    const assertion = params.get('client_assertion');
    const assertionType = params.get('client_assertion_type');
    const bodyClientId = params.get('client_id');

    const methods = [basic !== undefined, postSecret !== undefined, assertion !== undefined || assertionType !== undefined].filter(Boolean).length;
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method in each request.
    if (methods > 1) throw new InvalidRequest('use exactly one client authentication method');

    if (basic !== undefined) {
      if (basic === null) throw new InvalidClient('malformed Basic credentials', { headers: BASIC_CHALLENGE });
      if (bodyClientId !== undefined && bodyClientId !== basic.clientId) throw new InvalidRequest('client_id does not match the authenticated client');
      const app = this.verifySecret(basic.clientId, basic.secret, BASIC_CHALLENGE);
      return { app, method: 'client_secret_basic', trustLevel: TRUST.client_secret_basic };
    }
    if (postSecret !== undefined) {
      if (bodyClientId === undefined) throw new InvalidClient('client_id is required with client_secret');
      const app = this.verifySecret(bodyClientId, postSecret);
      return { app, method: 'client_secret_post', trustLevel: TRUST.client_secret_post };
    }
    if (assertion !== undefined || assertionType !== undefined) {
      if (assertionType !== CLIENT_ASSERTION_TYPE) throw new InvalidClient('unsupported client_assertion_type');
      if (assertion === undefined) throw new InvalidClient('client_assertion is required');
      try {
        const verified = await this.assertions.verify(assertion, this.assertionAudiences());
        const { app, payload } = verified;
        // RFC 7523 §3 item 2: for client authentication, sub (and iss) MUST be the client_id.
        if (payload.sub !== app.clientId) throw new InvalidClient('client assertion is invalid', { reason: 'assertion sub is not the client_id' });
        if (bodyClientId !== undefined && bodyClientId !== app.clientId) throw new InvalidRequest('client_id does not match the authenticated client');
        if (app.authMethod !== 'private_key_jwt') throw new InvalidClient('client authentication failed', { reason: `client is registered for ${app.authMethod}` });
        this.requireEnabled(app);
        // Only an assertion that authenticates the client uses up its jti: a refused one changes nothing.
        this.assertions.consume(verified);
        return { app, method: 'private_key_jwt', trustLevel: TRUST.private_key_jwt };
      } catch (error) {
        if (error instanceof AssertionRejected) throw new InvalidClient('client assertion is invalid', { reason: error.reason });
        throw error;
      }
    }
    if (bodyClientId !== undefined) {
      const app = this.applications.get(bodyClientId);
      if (!app) throw new InvalidClient('client authentication failed', { reason: 'unknown client' });
      // A confidential client must prove itself; only a public client may identify by client_id alone.
      if (app.authMethod !== 'none') throw new InvalidClient('client authentication failed', { reason: 'confidential client sent no credentials' });
      this.requireEnabled(app);
      return { app, method: 'none', trustLevel: TRUST.none };
    }
    return null;
  }

  private verifySecret(clientId: string, secret: string, headers?: Record<string, string>): Application {
    const app = this.applications.get(clientId);
    const hashes = app ? this.applications.secretHashes(app.clientId) : [];
    // Compare against every active secret (rotation keeps two), and against a decoy for unknown clients.
    let matched = false;
    for (const hash of hashes.length ? hashes : [DECOY_HASH]) matched = secretMatches(secret, hash) || matched;
    if (!app) throw new InvalidClient('client authentication failed', { headers, reason: 'unknown client' });
    if (!matched) throw new InvalidClient('client authentication failed', { headers, reason: 'wrong client secret' });
    if (app.authMethod !== 'client_secret_basic' && app.authMethod !== 'client_secret_post') {
      throw new InvalidClient('client authentication failed', { headers, reason: `client is registered for ${app.authMethod}` });
    }
    this.requireEnabled(app, headers);
    return app;
  }

  private requireEnabled(app: Application, headers?: Record<string, string>): void {
    if (!app.enabled) throw new InvalidClient('client authentication failed', { headers, reason: 'application is disabled' });
  }
}

/**
 * RFC 6749 §2.3.1: client_id and secret are each form-urlencoded, joined by a colon, then base64.
 * undefined: no Basic header; null: a Basic header that does not decode.
 */
export function parseBasic(authorization: string | undefined): { clientId: string; secret: string } | null | undefined {
  if (!authorization) return undefined;
  const match = /^basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(authorization);
  if (!match) return /^basic\b/i.test(authorization) ? null : undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    return clientId && secret ? { clientId, secret } : null;
  } catch {
    return null;
  }
}

const formDecode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));
