import { timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { RefusalRecorder } from '../audit/refusals.js';
import type { Clock } from '../clock.js';
import { isSafeNext, type UiSession } from '../consent/ui-sessions.js';
import { hashSecret, newId, randomSecret } from '../store/credentials.js';
import type { Resources } from '../directory/resources.js';
import type { Db } from '../store/database.js';
import { TemporarilyUnavailable } from '../oauth/errors.js';
import { VaultError } from '../vault/key-vault.js';
import type { Vault } from '../vault/vault.js';
import type { ProviderAccounts } from './provider-accounts.js';
import type { Provider, Providers } from './providers.js';
import { describe, openIdClient, type UpstreamClients } from './upstream-client.js';

/** How long the user has to come back from the provider. */
export const CONNECTION_LIFETIME_MS = 10 * 60_000;
/** Latchkey's redirect URI at every provider (registered there by the admin). */
export const CALLBACK_PATH = '/oauth2/providers/callback';

/** The vault item of a pending connection's PKCE verifier. */
const verifierItem = (connectionId: string): string => `provider-pkce:${connectionId}`;

export interface ConnectStart {
  userId: string;
  /** A connect started from the consent page belongs to that browser's UI session. */
  session?: UiSession | undefined;
  /** Where the browser goes once connected: only this broker's authorization endpoint. */
  returnTo?: string | undefined;
  /** Who asked, for the audit row ('admin' or 'consent page'). */
  via: string;
}

/** What the browser is shown at the callback. */
export type CallbackOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'page'; status: number; title: string; message: string };

interface ConnectionRow {
  id: string;
  provider_id: string;
  user_id: string;
  session_hash: Buffer | null;
  return_to: string | null;
  expires_at: number;
  used_at: number | null;
}

/** A refusal at the callback: shown to the user, audited, nothing changed. */
class CallbackRefused extends Error {
  constructor(readonly status: number, readonly title: string, readonly shown: string, readonly reason: string, readonly providerId: string | null = null) {
    super(shown);
  }
}

/**
 * Connecting a user's account at a provider (issue 5 item 4): authorization code + PKCE (S256) upstream,
 * as Latchkey's own clients do with Latchkey. `state` is 256 random bits, stored hashed, single use, ten
 * minutes; the callback's `iss` is checked (RFC 9207 §2.4, by us and again by openid-client); an `error` in
 * the callback is shown. A refused callback (unknown or replayed state, wrong `iss`, an error, a provider
 * that is down) shows an error page, is audited, and changes nothing: the connection is spent only in the
 * transaction that stores the tokens.
 */
export class ProviderConnections {
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
    private readonly providers: Providers,
    private readonly resources: Resources,
    private readonly accounts: ProviderAccounts,
    private readonly clients: UpstreamClients,
    private readonly audit: AuditLog,
    private readonly refusals: RefusalRecorder,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  /** Starts a connection; answers the URL the user's browser must open. */
  async start(provider: Provider, start: ConnectStart): Promise<string> {
    if (start.returnTo !== undefined && !isSafeNext(start.returnTo)) throw new Error('returnTo must lead to this broker\'s authorization endpoint');
    const oidc = await openIdClient();
    let config;
    try {
      config = await this.clients.configuration(provider);
    } catch (error) {
      if (error instanceof VaultError) throw new TemporarilyUnavailable('the vault is locked: unlock it before connecting an account', { reason: `provider client secret not read: ${error.code}` });
      throw new TemporarilyUnavailable(`${provider.name} could not be reached (discovery failed); try again later`, { reason: `discovery failed: ${describe(error)}` });
    }
    const state = randomSecret();
    const verifier = oidc.randomPKCECodeVerifier();
    const scopes = this.scopesFor(provider);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${this.issuer()}${CALLBACK_PATH}`,
      response_type: 'code',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(scopes.length ? { scope: scopes.join(' ') } : {}),
      // OIDC Core §11: a request for offline_access (a refresh token) must carry prompt=consent.
      ...(scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    });
    const id = newId('pcn');
    const now = this.clock.now();
    this.transaction(() => {
      this.db.prepare(
        'INSERT INTO provider_connections (id, state_hash, provider_id, user_id, session_hash, return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(id, hashSecret(state), provider.id, start.userId, start.session?.idHash ?? null, start.returnTo ?? null, now, now + CONNECTION_LIFETIME_MS);
      this.vault.put(verifierItem(id), verifier);
      this.audit.append({ event: 'provider.connect_started', decision: 'info', subject: start.userId, reason: `connect started (${start.via})`, detail: { provider_id: provider.id, scopes } });
    });
    return url.href;
  }

  /** GET /oauth2/providers/callback: `query` is the callback's query string, `session` the browser's UI session. */
  async complete(query: string, session: UiSession | null): Promise<CallbackOutcome> {
    let connection: ConnectionRow | undefined;
    try {
      const params = new URLSearchParams(query);
      for (const name of ['state', 'code', 'iss', 'error']) if (params.getAll(name).length > 1) throw new CallbackRefused(400, 'Bad request', 'The provider\'s answer repeats a parameter.', `duplicate ${name}`);
      const state = params.get('state');
      connection = state === null ? undefined : this.db.prepare('SELECT * FROM provider_connections WHERE state_hash = ?').get(hashSecret(state)) as ConnectionRow | undefined;
      if (!connection) throw new CallbackRefused(400, 'Unknown request', 'This answer does not belong to a connection Latchkey started. Start again with `latchkey provider connect`.', state === null ? 'callback without state' : 'unknown state');
      const providerId = connection.provider_id;
      const refuse = (status: number, title: string, shown: string, reason: string) => new CallbackRefused(status, title, shown, reason, providerId);
      if (connection.used_at !== null) throw refuse(400, 'Already used', 'This answer was used already. Start again to connect the account.', 'callback replayed');
      if (connection.expires_at <= this.clock.now()) throw refuse(400, 'Too late', 'This connection request has expired. Start again to connect the account.', 'connection expired');
      if (connection.session_hash !== null && (!session || !sameHash(connection.session_hash, session.idHash))) {
        throw refuse(403, 'Request refused', 'This connection was started in another sign-in to Latchkey.', 'callback in another UI session');
      }
      const provider = this.providers.get(providerId);
      if (!provider) throw refuse(400, 'Unknown provider', 'The provider was removed meanwhile.', 'provider deleted');
      const error = params.get('error');
      if (error !== null) {
        // RFC 6749 §4.1.2.1: the provider refused (or the user denied); its description is shown as text.
        const description = params.get('error_description');
        throw refuse(400, 'Not connected', `${provider.name} answered ${error.slice(0, 100)}${description ? `: ${description.slice(0, 300)}` : ''}. The account was not connected.`, `upstream error: ${error.slice(0, 100)}`);
      }
      let config;
      try {
        config = await this.clients.configuration(provider);
      } catch (cause) {
        throw refuse(503, 'Provider unavailable', `${provider.name} could not be reached; nothing was changed. Try again later.`, `discovery failed: ${describe(cause)}`);
      }
      // RFC 9207 §2.4: an `iss` must be the provider's issuer; a provider that says it sends one must send it.
      const metadata = config.serverMetadata();
      const iss = params.get('iss');
      if (iss !== null ? iss !== metadata.issuer : metadata.authorization_response_iss_parameter_supported === true) {
        throw refuse(400, 'Not connected', `The answer did not come from ${provider.name} (its issuer does not match). The account was not connected.`, iss === null ? 'callback without iss' : 'callback iss does not match the provider');
      }
      const oidc = await openIdClient();
      let verifier: string | undefined;
      try {
        verifier = this.vault.get(verifierItem(connection.id))?.toString('utf8');
      } catch (cause) {
        if (cause instanceof VaultError) throw refuse(503, 'Vault locked', 'Latchkey\'s vault is locked: unlock it, then start again. Nothing was changed.', `vault: ${cause.code}`);
        throw cause;
      }
      if (!verifier) throw refuse(400, 'Unknown request', 'This connection request can no longer be completed. Start again.', 'PKCE verifier missing');
      // openid-client takes the redirect_uri from this URL: Latchkey's own callback, never the request's Host.
      const currentUrl = new URL(`${this.issuer()}${CALLBACK_PATH}?${params}`);
      let tokens;
      try {
        tokens = this.clients.tokenSet(await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: verifier, expectedState: state! }));
      } catch (cause) {
        throw refuse(502, 'Not connected', `${provider.name} did not complete the connection (it is unavailable or refused the code); nothing was changed. Try again.`, `code exchange failed: ${describe(cause)}`);
      }
      const connectionId = connection.id;
      const userId = connection.user_id;
      const spend = () => this.transaction(() => {
        // Single use: of two callbacks racing with one state, one connects.
        if (this.db.prepare('UPDATE provider_connections SET used_at = ? WHERE id = ? AND used_at IS NULL').run(this.clock.now(), connectionId).changes !== 1) return false;
        this.vault.delete(verifierItem(connectionId));
        this.accounts.connect(provider.id, userId, tokens);
        this.audit.append({ event: 'provider.connected', decision: 'info', subject: userId, reason: 'upstream account connected',
          detail: { provider_id: provider.id, refresh_token: tokens.refreshToken !== undefined, expires_at: tokens.expiresAt } });
        return true;
      });
      let spent: boolean;
      try {
        spent = spend();
      } catch (cause) {
        // The vault was locked meanwhile: the transaction rolled back, so nothing is half-stored.
        if (cause instanceof VaultError) throw refuse(503, 'Vault locked', 'Latchkey\'s vault is locked: unlock it, then start again. Nothing was changed.', `vault: ${cause.code}`);
        throw cause;
      }
      if (!spent) throw refuse(400, 'Already used', 'This answer was used already. Start again to connect the account.', 'callback replayed concurrently');
      if (connection.return_to !== null && isSafeNext(connection.return_to)) return { kind: 'redirect', location: connection.return_to };
      return { kind: 'page', status: 200, title: 'Connected', message: `Your ${provider.name} account is connected to Latchkey. Applications you authorize can now reach it through Latchkey.` };
    } catch (error) {
      if (!(error instanceof CallbackRefused)) throw error;
      this.refusals.record({ event: 'provider.connect_refused', subject: connection?.user_id, ...(error.providerId ? { detail: { provider_id: error.providerId } } : {}) }, error.reason);
      return { kind: 'page', status: error.status, title: error.title, message: error.shown };
    }
  }

  /** What a connect asks for: the provider's scopes and the upstream scopes of its resources. */
  scopesFor(provider: Provider): string[] {
    return [...new Set([...provider.scopes, ...this.resources.ofProvider(provider.id).flatMap((resource) => resource.upstreamScopes)])];
  }

  /** Before a provider is deleted: its pending connections' verifiers (the rows go with the provider). */
  forgetProvider(providerId: string): void {
    for (const { id } of this.db.prepare('SELECT id FROM provider_connections WHERE provider_id = ?').all(providerId) as Array<{ id: string }>) this.vault.delete(verifierItem(id));
  }

  /** Forgets connections nobody can complete any more, with their verifiers. */
  sweep(): void {
    const stale = this.db.prepare('SELECT id FROM provider_connections WHERE expires_at < ?').all(this.clock.now()) as Array<{ id: string }>;
    this.transaction(() => {
      for (const { id } of stale) {
        this.vault.delete(verifierItem(id));
        this.db.prepare('DELETE FROM provider_connections WHERE id = ?').run(id);
      }
    });
  }
}

function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
