// The MCP TypeScript SDK, unmodified, against Latchkey and the example notes server
// (examples/notes-mcp-server; issue 3 item 10): the SDK client meets a 401, reads the server's RFC 9728
// metadata, finds Latchkey, reads its RFC 8414 metadata, registers itself (RFC 7591), sends the browser
// to the authorization endpoint with PKCE and `resource` (RFC 8707); the test plays the person (a UI
// session, the consent form, allow) and the loopback redirect URI; then the code is exchanged, a tool is
// called, the access token expires, and the SDK refreshes on its own.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.js';
import { postForm, registerService, startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, setupOwner, TestClock } from '../support/browser.js';
import { auditSince } from '../support/refusals.js';

/** The client's loopback redirect URI (RFC 8252 §7.3): a real listener that keeps what the browser brings it. */
class LoopbackRedirect {
  private constructor(private readonly server: Server, readonly url: string, readonly received: URLSearchParams[]) {}

  static async start(): Promise<LoopbackRedirect> {
    const received: URLSearchParams[] = [];
    const server = createServer((request, response) => {
      received.push(new URL(request.url!, 'http://127.0.0.1').searchParams);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new LoopbackRedirect(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * What an MCP client application implements for the SDK (OAuthClientProvider): where to keep the client
 * registration, the tokens and the PKCE verifier, and how to send the user to the authorization URL.
 */
class TestClientProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens[] = [];
  authorizationUrls: URL[] = [];
  lastState: string | undefined;
  private verifier: string | undefined;

  constructor(readonly redirectUrl: string, private readonly openInBrowser: (url: URL) => Promise<void>) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Notes MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_uri: 'https://client.example/',
    };
  }
  state(): string {
    this.lastState = crypto.randomUUID();
    return this.lastState;
  }
  clientInformation() { return this.client; }
  saveClientInformation(information: OAuthClientInformationMixed) { this.client = information; }
  tokens() { return this.saved.at(-1); }
  saveTokens(tokens: OAuthTokens) { this.saved.push(tokens); }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    await this.openInBrowser(url);
  }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier!; }
}

const text = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ type: string; text: string }>).map((part) => part.text).join('\n');

describe('an MCP client (the SDK, unmodified) reaches an MCP server through Latchkey', () => {
  const clock = new TestClock();
  let test: TestBroker;
  let notes: NotesServer;
  let loopback: LoopbackRedirect;
  let owner: string;
  let provider: TestClientProvider;
  let client: Client;
  const consentPages: string[] = [];

  beforeAll(async () => {
    test = await startBroker({ clock });
    owner = await setupOwner(test);
    notes = await startNotesServer({ authorizationServer: test.issuer, port: 0, now: () => new Date(clock.now()) });
    // What `latchkey resource create --identifier http://127.0.0.1:PORT/mcp` does.
    await ensureResource(test, notes.resource, ['notes:read', 'notes:write'], 'Notes');
    loopback = await LoopbackRedirect.start();
    const browser = new Browser(test);
    await browser.signIn();
    provider = new TestClientProvider(loopback.url, async (url) => {
      // The person: the browser opens the authorization URL, reads the consent page, presses Allow, and is
      // sent on to the client's loopback redirect URI.
      const page = await browser.open(url.href);
      expect(page.status).toBe(200);
      consentPages.push(page.html);
      const answer = await browser.decide(consentForm(page.html), 'allow');
      expect(answer.status).toBe(303);
      expect((await fetch(answer.location!)).status).toBe(200);
    });
  });
  afterAll(async () => {
    await client?.close();
    await notes?.close();
    await loopback?.close();
    await test?.close();
  });

  it('the MCP server answers 401 with its resource metadata, which names Latchkey (RFC 9728)', async () => {
    const response = await fetch(notes.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer .*resource_metadata="${notes.resourceMetadataUrl}"`));
    expect(notes.resourceMetadataUrl).toBe(`${notes.url.origin}/.well-known/oauth-protected-resource/mcp`);
    const metadata: any = await (await fetch(notes.resourceMetadataUrl)).json();
    expect(metadata).toMatchObject({ resource: notes.resource, authorization_servers: [test.issuer], scopes_supported: ['notes:read', 'notes:write'] });
  });

  it('refuses a Latchkey token meant for another resource (aud), and one that is not a JWT', async () => {
    const other = await registerService(test);
    const token = (await postForm(`${test.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: other.resource }, { basic: [other.clientId, other.clientSecret] })).body.access_token;
    for (const bearer of [token, 'not-a-jwt']) {
      const response = await fetch(notes.url, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token".*resource_metadata=/);
    }
  });

  it('discovers Latchkey, registers, sends the user to consent, exchanges the code, and calls a tool', async () => {
    const first = new StreamableHTTPClientTransport(notes.url, { authProvider: provider });
    // The first attempt ends in the browser: the SDK has registered and redirected; the user has answered.
    await expect(new Client({ name: 'notes-test', version: '1.0.0' }).connect(first)).rejects.toThrow(UnauthorizedError);

    // RFC 7591: registered as a public client, only what it needs kept, unverified.
    expect(provider.client).toMatchObject({ client_id: expect.stringMatching(/^app_/), token_endpoint_auth_method: 'none', client_name: 'Notes MCP client' });
    expect(provider.client).not.toHaveProperty('client_uri');
    const clientId = provider.client!.client_id;
    expect((await test.admin('GET', `/applications/${clientId}`)).body).toMatchObject({ registration: 'dynamic', resources: [] });
    expect(consentPages[0]).toContain('Unverified application');

    // The authorization request: PKCE S256, state, the scopes the resource metadata lists, and the
    // resource metadata's `resource` as the RFC 8707 resource indicator.
    const asked = provider.authorizationUrls[0]!;
    expect(asked.origin + asked.pathname).toBe(`${test.issuer}/oauth2/authorize`);
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({
      response_type: 'code', client_id: clientId, code_challenge_method: 'S256', redirect_uri: loopback.url,
      scope: 'notes:read notes:write', resource: notes.resource, state: provider.lastState,
    });
    // RFC 9207: the response names its issuer; the state comes back.
    const callback = loopback.received[0]!;
    expect(callback.get('iss')).toBe(test.issuer);
    expect(callback.get('state')).toBe(provider.lastState);

    await first.finishAuth(callback.get('code')!);
    const tokens = provider.tokens()!;
    expect(tokens.refresh_token).toBeDefined();
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: test.issuer, aud: notes.resource, sub: owner, client_id: clientId, scope: 'notes:read notes:write' });

    client = new Client({ name: 'notes-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(notes.url, { authProvider: provider }));
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['add_note', 'list_notes']);
    expect(text(await client.callTool({ name: 'add_note', arguments: { text: 'Buy milk' } }))).toBe('Saved note 1.');
    expect(text(await client.callTool({ name: 'list_notes', arguments: {} }))).toBe('1. Buy milk');
  });

  it('once the access token has expired, the SDK refreshes with the refresh token (rotated) and the call goes through', async () => {
    const before = provider.tokens()!;
    const seq = (test.broker.db.prepare('SELECT MAX(seq) AS seq FROM audit_log').get() as { seq: number }).seq;
    // Past the access token's lifetime (the resource's default, 600 s), for Latchkey and the MCP server alike.
    clock.advance(11 * 60_000);

    expect(text(await client.callTool({ name: 'list_notes', arguments: {} }))).toBe('1. Buy milk');

    const after = provider.tokens()!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(decodeJwt(after.access_token)).toMatchObject({ aud: notes.resource, sub: owner, grant_type: 'refresh_token' });
    // No second trip through the browser.
    expect(provider.authorizationUrls).toHaveLength(1);
    expect(auditSince(test, seq).filter((row) => row.decision === 'allow').map((row) => row.event)).toContain('token.issued');
  });
});
