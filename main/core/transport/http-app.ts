import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Forbidden, NotFound, OAuthError, PayloadTooLarge, InvalidRequest, ServerError } from '../oauth/errors.js';
import { Params } from '../oauth/params.js';
import type { Logger } from '../logger.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** Where a request came in: the loopback TCP listener, or the local socket. */
export type Transport = 'tcp' | 'socket';

declare module 'fastify' {
  interface FastifyRequest {
    /** The form body as parameters, for application/x-www-form-urlencoded requests. */
    form?: Params;
    /** The listener this request arrived on; set by the perimeter before any route sees the request. */
    transport: Transport;
  }
}

/** Requests that arrived on the local socket (the same application serves both listeners). */
const overLocalSocket = new WeakSet<IncomingMessage>();

/**
 * The request handler for the local socket's listener: the same application as on TCP, with each
 * request marked as having come over the socket. The mark is set here, by the listener, never from
 * anything the request says.
 */
export function localSocketHandler(app: FastifyInstance): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    overLocalSocket.add(request);
    app.routing(request, response);
  };
}

export interface PerimeterOptions {
  /** Exact `Host` values this listener answers to, lowercase (DNS rebinding). Empty until listening. */
  allowedHosts: () => ReadonlySet<string>;
  /** This listener's own origin; any other `Origin` on an OAuth endpoint is refused. */
  ownOrigin: () => string;
  log: Logger;
}

/**
 * The HTTP perimeter: what every request passes before any route sees it. Host check, body limit,
 * form parsing that keeps duplicates, timeouts, and one error handler that speaks OAuth JSON with
 * `Cache-Control: no-store` and never echoes input.
 */
export function createHttpApp(options: PerimeterOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 15_000,
    http: { headersTimeout: 10_000, maxHeaderSize: 16 * 1024 },
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: true,
    trustProxy: false,
    // Requests are validated with zod at each endpoint, never with route schemas. Fastify would load
    // ajv and fast-json-stringify for them at construction, about a third of its start-up: a route that
    // declares a schema fails to register instead.
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
  });

  app.decorateRequest('transport', 'tcp');
  app.addHook('onRequest', async (request) => {
    if (overLocalSocket.has(request.raw)) {
      request.transport = 'socket';
      // No browser can reach a Unix socket, so `Host` is no authority check here (any, or none). A request
      // that carries an `Origin` is one a web page made, relayed by something: refused on every route.
      if (request.headers.origin !== undefined) throw new Forbidden('requests with an Origin are not accepted on the local socket', { reason: 'Origin header on the local socket' });
      return;
    }
    // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 still sends `Host: evil.example`.
    const host = request.headers.host?.toLowerCase();
    if (!host || !options.allowedHosts().has(host)) throw new Forbidden('host not allowed', { reason: 'foreign Host header' });
  });

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body.length === 0 ? undefined : JSON.parse(body as string));
    } catch {
      done(new InvalidRequest('the body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    try {
      request.form = Params.parse(body as string);
      done(null, undefined);
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setNotFoundHandler(async (_request, reply) => sendError(reply, new NotFound()));
  app.setErrorHandler(async (error: FastifyError | OAuthError, _request, reply) => {
    if (error instanceof OAuthError) return sendError(reply, error);
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE': return sendError(reply, new PayloadTooLarge());
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return sendError(reply, new OAuthError('invalid_request', 415, 'unsupported content type'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return sendError(reply, new InvalidRequest('malformed request body'));
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return sendError(reply, new InvalidRequest('malformed request'));
    options.log.error(`internal error: ${error.message}`);
    return sendError(reply, new ServerError());
  });
  return app;
}

function noRouteSchemas(): never {
  throw new Error('route schemas are not used here: validate the request in the handler');
}

export function sendError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply
    .code(error.status)
    .headers({ 'cache-control': 'no-store', pragma: 'no-cache', ...error.headers })
    .type('application/json')
    .send(error.toJSON());
}

/** OAuth responses carrying tokens or token state are never cached (RFC 6749 §5.1). */
export function sendJson(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  return reply.code(status).headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).type('application/json').send(body);
}

/**
 * What OAuth's back-channel endpoints require of a request: a browser must never drive them, so a
 * foreign `Origin` is refused (403); the body must be a form (RFC 6749 §3.2); and nothing may ride in
 * the query string, where it would be logged.
 */
export function requireBackChannelForm(request: FastifyRequest, ownOrigin: string): Params {
  refuseForeignOrigin(request, ownOrigin);
  if (request.url.includes('?')) throw new InvalidRequest('parameters must be sent in the request body, not the query string');
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/x-www-form-urlencoded' || !request.form) {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  return request.form;
}

/**
 * A foreign `Origin` means a web page is sending the request; refused (403) as an `onRequest` hook, before
 * the body is read, since a browser's cross-origin "simple" POST may carry text/plain or multipart.
 */
export function refuseForeignOrigin(request: FastifyRequest, ownOrigin: string): void {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ownOrigin) throw new Forbidden('cross-origin requests are not allowed here', { reason: 'foreign Origin header' });
}
