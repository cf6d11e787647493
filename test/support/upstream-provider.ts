// A real external OAuth / OpenID provider for brokered access: oidc-provider on 127.0.0.1:0, with its
// development login and consent pages, which the test drives with fetch as a person would.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { Page } from 'playwright-core';

/** What the tests use of oidc-provider, which ships no TypeScript types. */
interface OidcProvider {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  on(event: string, listener: (...args: any[]) => void): void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

export interface Upstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Refresh-token grants the provider answered (successfully). */
  refreshes: number;
  /** How its token endpoint behaves: normally, answering 503, or dropping the connection. */
  tokenEndpoint: 'up' | '5xx' | 'refuse';
  /** Logs in and consents at the provider, from an authorization URL to the callback URL it redirects to (not followed). */
  authorize(authorizationUrl: string, account?: string): Promise<URL>;
  /** The provider's userinfo for an access token: 200 with `sub` when it is a live token of the provider. */
  userinfo(accessToken: string): Promise<{ status: number; body: any }>;
  /** Revokes a token at the provider, as the user would by removing the app's access there. */
  revoke(token: string): Promise<void>;
  /** Introspection at the provider (RFC 7662): whether a token is still live there. */
  introspect(token: string): Promise<{ active: boolean }>;
  close(): Promise<void>;
}

export const UPSTREAM_SCOPES = ['openid', 'offline_access', 'api:read', 'api:write'];

export async function startUpstream(options: { redirectUri: string; accessTokenTtl?: number }): Promise<Upstream> {
  // A variable specifier keeps the untyped package out of the type checker; the shape is declared above.
  const packageName = 'oidc-provider';
  const { default: Provider } = (await import(packageName)) as { default: ProviderConstructor };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('base64url'), alg: 'RS256', use: 'sig' };

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = `latchkey-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [options.redirectUri],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: UPSTREAM_SCOPES,
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: { AccessToken: options.accessTokenTtl ?? 300, IdToken: 300, RefreshToken: 86_400, Interaction: 600, Session: 3600, Grant: 86_400, AuthorizationCode: 60 },
    // Every refresh rotates the refresh token, as GitHub's expiring tokens and many others do.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
  });

  const upstream: Upstream = {
    issuer, clientId, clientSecret, refreshes: 0, tokenEndpoint: 'up',
    async authorize(authorizationUrl, account = 'ada') {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      let method = 'GET';
      let body: string | undefined;
      for (let step = 0; step < 20; step++) {
        const response = await fetch(url, {
          method, redirect: 'manual',
          headers: { ...(jar.size ? { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(body ? { body } : {}),
        });
        for (const cookie of response.headers.getSetCookie()) {
          const [pair] = cookie.split(';');
          const eq = pair!.indexOf('=');
          jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
        const location = response.headers.get('location');
        if (location) {
          const next = new URL(location, url);
          if (next.origin !== issuer) return next;
          url = next;
          method = 'GET';
          body = undefined;
          await response.text();
          continue;
        }
        const html = await response.text();
        const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/.exec(html);
        if (response.status !== 200 || !form) throw new Error(`unexpected page at the provider (${response.status}): ${html.slice(0, 300)}`);
        const fields = new URLSearchParams();
        for (const [input] of form[2]!.matchAll(/<input[^>]*>/g)) {
          const name = /name="([^"]+)"/.exec(input)?.[1];
          if (name) fields.set(name, name === 'login' ? account : name === 'password' ? 'any password' : (/value="([^"]*)"/.exec(input)?.[1] ?? ''));
        }
        url = new URL(form[1]!.replace(/&amp;/g, '&'), url);
        method = 'POST';
        body = fields.toString();
      }
      throw new Error('the provider did not redirect back');
    },
    async userinfo(accessToken) {
      const response = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async revoke(token) {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: clientId, client_secret: clientSecret }).toString(),
      });
      if (response.status !== 200) throw new Error(`revocation failed: ${response.status} ${await response.text()}`);
    },
    async introspect(token) {
      const response = await fetch(`${issuer}/token/introspection`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: clientId, client_secret: clientSecret }).toString(),
      });
      return (await response.json()) as { active: boolean };
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };

  provider.on('grant.success', (ctx: { oidc: { params: { grant_type?: string } } }) => {
    if (ctx.oidc.params.grant_type === 'refresh_token') upstream.refreshes++;
  });
  provider.on('server_error', (_ctx: unknown, error: Error) => { if (process.env.UPSTREAM_DEBUG) console.error('upstream server_error', error); });
  const handle = provider.callback();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/token') && !request.url.startsWith('/token/') && upstream.tokenEndpoint !== 'up') {
      if (upstream.tokenEndpoint === 'refuse') return request.socket.destroy();
      response.writeHead(503, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>');
      return;
    }
    handle(request, response);
  });
  return upstream;
}

/**
 * Signs in at the provider in a browser tab (the UI opened it with the provider's authorization URL) as a
 * person would: its login form, then its consent form, until it sends the tab back to the broker's callback.
 */
export async function signInAtProviderTab(tab: Page, upstream: Upstream, brokerIssuer: string, account = 'ada'): Promise<void> {
  await tab.waitForURL((url) => url.origin === upstream.issuer);
  for (let step = 0; step < 5 && !tab.url().startsWith(`${brokerIssuer}/`); step++) {
    const login = tab.locator('input[name="login"]');
    if (await login.count()) {
      await login.fill(account);
      await tab.locator('input[name="password"]').fill('any password');
    }
    await Promise.all([tab.waitForNavigation(), tab.locator('button[type="submit"]').first().click()]);
  }
}
