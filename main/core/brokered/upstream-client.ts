import type * as OpenIdClientModule from 'openid-client';
import type { Configuration } from 'openid-client';
import type { Provider, Providers } from './providers.js';
import { usesPlainHttp } from './providers.js';
import type { UpstreamTokenSet } from './provider-accounts.js';
import type { Clock } from '../clock.js';

type OpenIdClient = typeof OpenIdClientModule;

let loading: Promise<OpenIdClient> | undefined;

/**
 * openid-client is loaded on first use, once: most brokers never talk to an upstream, and its modules
 * (with oauth4webapi and jose's web crypto paths) must not lengthen the start (the bundle keeps it a chunk
 * of its own).
 */
export function openIdClient(): Promise<OpenIdClient> {
  loading ??= import('openid-client');
  loading.catch(() => { loading = undefined; });
  return loading;
}

/** How long one upstream request may take (seconds); then it is the provider that is unavailable. */
const UPSTREAM_TIMEOUT_SECONDS = 10;

/** Why a refresh failed: the grant is gone (the user must reconnect), or the provider could not answer now. */
export class UpstreamRefused extends Error {
  constructor(readonly kind: 'invalid_grant' | 'unavailable', message: string) {
    super(message);
  }
}

/**
 * Latchkey as an OAuth client of its providers (openid-client v6). Each provider's Configuration (its
 * discovered metadata and client authentication) is built once and cached; a failed discovery is not
 * cached, so the next request tries again. `forget` drops it when the provider changes or goes.
 */
export class UpstreamClients {
  private readonly configs = new Map<string, Promise<Configuration>>();
  /** The resolved ones, for what must be answered synchronously (a page's CSP). */
  private readonly resolved = new Map<string, Configuration>();

  constructor(private readonly providers: Providers, private readonly clock: Clock) {}

  configuration(provider: Provider): Promise<Configuration> {
    let config = this.configs.get(provider.id);
    if (!config) {
      const building = this.build(provider);
      config = building;
      this.configs.set(provider.id, building);
      building.then((built) => { if (this.configs.get(provider.id) === building) this.resolved.set(provider.id, built); },
        () => { if (this.configs.get(provider.id) === building) this.configs.delete(provider.id); });
    }
    return config;
  }

  forget(providerId: string): void {
    this.configs.delete(providerId);
    this.resolved.delete(providerId);
  }

  /** The origin the user's browser is sent to for this provider's authorization endpoint, as far as known now. */
  authorizationOrigin(provider: Provider): string {
    const endpoint = this.resolved.get(provider.id)?.serverMetadata().authorization_endpoint ?? provider.endpoints?.authorizationEndpoint ?? provider.issuer!;
    return new URL(endpoint).origin;
  }

  /** Token response → what is kept: `expires_in` (RFC 6749 §5.1) measured from now on Latchkey's clock. */
  tokenSet(response: { access_token: string; refresh_token?: string | undefined; expiresIn(): number | undefined }): UpstreamTokenSet {
    const expiresIn = response.expiresIn();
    return { accessToken: response.access_token, refreshToken: response.refresh_token, expiresAt: expiresIn === undefined ? null : this.clock.now() + expiresIn * 1000 };
  }

  /** RFC 6749 §6, at the provider's token endpoint. */
  async refresh(provider: Provider, refreshToken: string): Promise<UpstreamTokenSet> {
    const oidc = await openIdClient();
    let config: Configuration;
    try {
      config = await this.configuration(provider);
    } catch (error) {
      throw new UpstreamRefused('unavailable', `discovery failed: ${describe(error)}`);
    }
    try {
      return this.tokenSet(await oidc.refreshTokenGrant(config, refreshToken));
    } catch (error) {
      // RFC 6749 §5.2: invalid_grant is a refresh token that is revoked, expired or not this client's. Anything
      // else (5xx, a network error, a timeout, an answer that is not OAuth) says nothing about the grant.
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') throw new UpstreamRefused('invalid_grant', 'the provider refused the refresh token (invalid_grant)');
      throw new UpstreamRefused('unavailable', describe(error));
    }
  }

  /** RFC 7009, where the provider offers it. True when revoked, false when not offered; throws when it failed. */
  async revoke(provider: Provider, refreshToken: string): Promise<boolean> {
    const oidc = await openIdClient();
    const config = await this.configuration(provider);
    if (!config.serverMetadata().revocation_endpoint) return false;
    await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    return true;
  }

  private async build(provider: Provider): Promise<Configuration> {
    const oidc = await openIdClient();
    const secret = this.providers.clientSecret(provider.id);
    // RFC 6749 §2.3.1 allows either; client_secret_post is what GitHub and Google both accept.
    const auth = secret === null ? oidc.None() : oidc.ClientSecretPost(secret);
    const plainHttp = usesPlainHttp(provider);
    let config: Configuration;
    if (provider.issuer !== null) {
      config = await oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, auth, {
        timeout: UPSTREAM_TIMEOUT_SECONDS,
        // Loopback only (providers.ts: upstreamUrlProblem).
        ...(plainHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    } else {
      const endpoints = provider.endpoints!;
      // Without discovery there is no issuer to name; the authorization server's origin stands for it. Such a
      // server advertises no RFC 9207 support, so a callback without `iss` is accepted, one with a foreign `iss` is not.
      config = new oidc.Configuration({
        issuer: new URL(endpoints.authorizationEndpoint).origin,
        authorization_endpoint: endpoints.authorizationEndpoint,
        token_endpoint: endpoints.tokenEndpoint,
        ...(endpoints.revocationEndpoint ? { revocation_endpoint: endpoints.revocationEndpoint } : {}),
      }, provider.clientId, undefined, auth);
      if (plainHttp) oidc.allowInsecureRequests(config);
    }
    config.timeout = UPSTREAM_TIMEOUT_SECONDS;
    return config;
  }
}

/** An upstream failure in a few words for the log and the audit row: never a token (openid-client's messages hold none). */
export function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; error?: string; status?: number; code?: string; cause?: { code?: string; status?: number } };
  const parts = [e.name, e.error ?? e.code, e.status ?? e.cause?.status, e.cause?.code, e.message].filter((part) => part !== undefined && part !== '');
  return parts.join(': ').slice(0, 300);
}
