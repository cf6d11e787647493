import type { FastifyInstance } from 'fastify';

/** Headers for every page the broker serves to a browser: no framing, no inline script, no caching. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Latchkey</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
  code { background: #f0f2f4; padding: 0.1rem 0.3rem; border-radius: 3px; }
</style>
</head>
<body>
<h1>Latchkey is running</h1>
<p>The broker is up. Its admin window is not part of this build yet; until it is, manage Latchkey with the
<code>latchkey</code> command from the repository (for example <code>npx latchkey app list</code>, or
<code>npx latchkey --help</code>).</p>
<p>OAuth metadata: <a href="/.well-known/oauth-authorization-server">/.well-known/oauth-authorization-server</a></p>
</body>
</html>
`;

/** Where the React UI will be served in headless mode; a plain page until it exists. */
export function registerUiPlaceholder(app: FastifyInstance): void {
  app.get('/', async (_request, reply) => reply.redirect('/ui/', 303));
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/', async (_request, reply) => reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(PAGE));
}
