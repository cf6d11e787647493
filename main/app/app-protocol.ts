import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { protocol, type Session } from 'electron';
import { APP_SCHEME, PROMPT_HOST, UI_HOST } from '../../shared/ipc.js';
import type { Logger } from '../core/logger.js';
import { routeAppRequest } from './app-routes.js';
import { UI_CSP } from './content-security-policy.js';

/** The admin API's own body limit is smaller; this only keeps a runaway page from buffering more in main. */
const MAX_API_BODY_BYTES = 1024 * 1024;
/** Request headers the admin API needs; nothing else of the page's request (cookies, Origin) is passed on. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'last-event-id'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'retry-after', 'content-disposition', 'x-content-type-options'];

/**
 * `latchkey://`: must be declared before the app is ready. Standard and secure, so pages on it have an
 * origin of their own (`'self'` in the CSP, relative URLs, fetch), and no page elsewhere may reach it.
 */
export function declareAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: false } }]);
}

export interface AppProtocolDeps {
  /** renderer/dist: the React UI's build. */
  uiRoot: string;
  /** Where prompt.html and its files were built. */
  promptRoot: string;
  /** The in-process broker's loopback issuer and admin token: used here, never given to a page. */
  issuer: () => string;
  adminToken: string;
  log: Logger;
}

/**
 * Serves the app's pages from `latchkey://ui/…` (the React UI) and `latchkey://prompt/…` (the consent
 * window), each with its CSP, and forwards `latchkey://ui/api/…` to the broker's admin API with the admin
 * bearer token added here: the UI calls relative `/api/...` URLs and never sees the token.
 */
export class AppProtocol {
  constructor(private readonly deps: AppProtocolDeps) {}

  register(session: Session): void {
    session.protocol.handle(APP_SCHEME, (request) => this.answer(request));
  }

  private async answer(request: Request): Promise<Response> {
    const route = routeAppRequest(request.method, request.url);
    if (route.kind === 'api') return this.forward(request, route.pathAndQuery);
    if (route.kind === 'not_found') return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    const root = route.host === UI_HOST ? this.deps.uiRoot : this.deps.promptRoot;
    const path = resolve(root, route.file);
    // app-routes.ts decided a relative path without `..`; this is the belt to its braces.
    if (!path.startsWith(resolve(root) + sep)) return new Response('not found', { status: 404 });
    const headers = { 'content-type': route.contentType, 'content-security-policy': route.csp, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
    if (!existsSync(path)) {
      if (route.host === UI_HOST && route.file === 'index.html') return new Response(UI_MISSING, { status: 200, headers: { ...headers, 'content-security-policy': UI_CSP } });
      return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    return new Response(request.method === 'HEAD' ? null : readFileSync(path), { status: 200, headers });
  }

  private async forward(request: Request, pathAndQuery: string): Promise<Response> {
    const headers = new Headers({ authorization: `Bearer ${this.deps.adminToken}` });
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    let body: ArrayBuffer | undefined;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      body = await request.arrayBuffer();
      if (body.byteLength > MAX_API_BODY_BYTES) return jsonError(413, 'invalid_request', 'request body too large');
    }
    try {
      const upstream = await fetch(`${this.deps.issuer()}${pathAndQuery}`, { method: request.method, headers, body, redirect: 'manual' });
      const out = new Headers();
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = upstream.headers.get(name);
        if (value !== null) out.set(name, value);
      }
      return new Response(upstream.body, { status: upstream.status, headers: out });
    } catch (error) {
      this.deps.log.warn(`admin API call from the UI failed: ${(error as Error).message}`);
      return jsonError(502, 'server_error', 'the broker did not answer');
    }
  }
}

function jsonError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** Shown when renderer/dist was not built: says what to do, runs nothing. */
const UI_MISSING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latchkey</title></head>
<body><h1>Latchkey</h1><p>The broker is running, but the UI was not built into this copy of the app
(<code>renderer/dist</code> is missing). Build it, then reopen this window. The tray menu works meanwhile.</p></body></html>`;

export const PROMPT_PAGE_URL = `${APP_SCHEME}://${PROMPT_HOST}/prompt.html`;
export const uiUrl = (path = '/'): string => `${APP_SCHEME}://${UI_HOST}${path.startsWith('/') ? path : `/${path}`}`;
