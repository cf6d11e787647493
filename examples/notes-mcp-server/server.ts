// A local MCP server that is a protected resource of Latchkey (issue 3 item 10). It publishes RFC 9728
// metadata naming Latchkey as its authorization server, answers 401 with
// `WWW-Authenticate: Bearer resource_metadata=…` to a request without a good token, and accepts only
// Latchkey's RFC 9068 access tokens whose `aud` is its own resource identifier, verified offline with
// Latchkey's JWKS. Everything else is the MCP TypeScript SDK as it comes.
//
// This is an example of a resource server, not part of Latchkey: it talks to Latchkey over HTTP only and
// imports nothing from it (lint checks both ways).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { OAuthMetadataSchema, type OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';

export const NOTES_SCOPES = ['notes:read', 'notes:write'] as const;

export interface NotesServerOptions {
  /** Latchkey's issuer, e.g. http://127.0.0.1:7433. */
  authorizationServer: string;
  /** The port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** The current time for token expiry (a test moves it with the broker's clock). */
  now?: () => Date;
}

export interface NotesServer {
  /** The MCP endpoint, which is also this server's resource identifier (RFC 8707, RFC 9728 `resource`). */
  url: URL;
  resource: string;
  /** Where the protected-resource metadata is (RFC 9728 §3.1: the well-known path, then the resource's path). */
  resourceMetadataUrl: string;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1. Reads Latchkey's metadata first: its issuer and JWKS are what tokens are checked against. */
export async function startNotesServer(options: NotesServerOptions): Promise<NotesServer> {
  const { metadata: authorizationServer, jwksUri } = await fetchAuthorizationServerMetadata(options.authorizationServer);
  // Listen first: the resource identifier names the port.
  const app = createMcpExpressApp({ host: '127.0.0.1' });
  const http = await new Promise<Server>((resolve, reject) => {
    const server = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(server)).once('error', reject);
  });
  const port = (http.address() as AddressInfo).port;
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const resource = url.href;
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(url);

  // RFC 9728: who this resource is and which authorization server issues its tokens.
  app.use(mcpAuthMetadataRouter({ oauthMetadata: authorizationServer, resourceServerUrl: url, scopesSupported: [...NOTES_SCOPES], resourceName: 'Notes (Latchkey example)' }));

  const bearer = requireBearerAuth({
    verifier: latchkeyTokenVerifier({ issuer: authorizationServer.issuer, jwksUri, resource, now: options.now }),
    resourceMetadataUrl,
    expectedResource: url,
  });
  const notes = new Map<string, string[]>();
  // Stateless Streamable HTTP: a server and transport per request; the token is checked on every one.
  app.post('/mcp', bearer, async (request: Request, response: Response) => {
    const server = notesMcpServer(notes);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response, request.body);
  });
  // No server-initiated stream and no sessions to end in stateless mode (MCP Streamable HTTP: 405).
  for (const method of ['get', 'delete'] as const) {
    app[method]('/mcp', bearer, (_request: Request, response: Response) => {
      response.status(405).set('allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
    });
  }

  return {
    url,
    resource,
    resourceMetadataUrl,
    close: () => new Promise((resolve, reject) => {
      http.closeAllConnections();
      http.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

/** RFC 8414 metadata of the authorization server; its `issuer` must be the URL it was fetched for (§3.3). */
async function fetchAuthorizationServerMetadata(issuer: string): Promise<{ metadata: OAuthMetadata; jwksUri: string }> {
  const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!response.ok) throw new Error(`cannot read Latchkey's metadata at ${issuer}: ${response.status}`);
  const metadata = OAuthMetadataSchema.parse(await response.json());
  if (metadata.issuer !== issuer) throw new Error(`Latchkey's metadata names issuer ${metadata.issuer}, not ${issuer}`);
  const jwksUri = metadata.jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('Latchkey\'s metadata has no jwks_uri');
  return { metadata, jwksUri };
}

/**
 * Verifies Latchkey's JWT access tokens offline (RFC 9068): signed by a key in Latchkey's JWKS (ES256),
 * `typ: at+jwt`, Latchkey as `iss`, this server as `aud`, not expired. Scopes come from `scope`. Anything
 * wrong is `invalid_token`, which the SDK answers 401 with the resource metadata URL. (Offline checks
 * cannot see a revocation before the token expires; a server that must, asks introspection instead.)
 */
export function latchkeyTokenVerifier(options: { issuer: string; jwksUri: string; resource: string; now?: (() => Date) | undefined }): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.resource,
          typ: 'at+jwt',
          algorithms: ['ES256'],
          requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
          ...(options.now ? { currentDate: options.now() } : {}),
        });
        if (typeof payload.client_id !== 'string') throw new InvalidTokenError('the access token has no client_id');
        return {
          token,
          clientId: payload.client_id,
          scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
          expiresAt: payload.exp,
          resource: new URL(options.resource),
          extra: { subject: payload.sub },
        };
      } catch (error) {
        if (error instanceof InvalidTokenError) throw error;
        throw new InvalidTokenError(error instanceof joseErrors.JWTExpired ? 'the access token has expired' : 'the access token is not valid here');
      }
    },
  };
}

/** The MCP server itself: a notebook per user (the token's `sub`), one tool per scope. */
function notesMcpServer(notes: Map<string, string[]>): McpServer {
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  const caller = (auth: AuthInfo | undefined, scope: string) => {
    const subject = auth?.extra?.subject;
    if (typeof subject !== 'string') throw new Error('no authenticated user');
    if (!auth!.scopes.includes(scope)) return { subject, missing: scope };
    return { subject, missing: null };
  };
  const refused = (scope: string) => ({ isError: true, content: [{ type: 'text' as const, text: `this tool needs the scope ${scope}` }] });

  server.registerTool('add_note', {
    description: 'Adds a note to your notebook.',
    inputSchema: { text: z.string().min(1).max(2000) },
  }, async ({ text }, extra) => {
    const who = caller(extra.authInfo, 'notes:write');
    if (who.missing) return refused(who.missing);
    const list = notes.get(who.subject) ?? [];
    list.push(text);
    notes.set(who.subject, list);
    return { content: [{ type: 'text', text: `Saved note ${list.length}.` }] };
  });

  server.registerTool('list_notes', {
    description: 'Lists the notes in your notebook.',
  }, async (extra) => {
    const who = caller(extra.authInfo, 'notes:read');
    if (who.missing) return refused(who.missing);
    const list = notes.get(who.subject) ?? [];
    return { content: [{ type: 'text', text: list.length ? list.map((note, index) => `${index + 1}. ${note}`).join('\n') : 'No notes yet.' }] };
  });
  return server;
}
