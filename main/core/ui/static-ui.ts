import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from '../transport/http-app.js';
import { NotFound } from '../oauth/errors.js';
import { PAGE_HEADERS, UI_CONTENT_SECURITY_POLICY } from '../transport/page-headers.js';

/** The UI's pages: its own CSP, never framed, never cached (a new build must show at once). */
const UI_PAGE_HEADERS = { ...PAGE_HEADERS, 'content-security-policy': UI_CONTENT_SECURITY_POLICY };
/** Vite names every asset by its content hash: a name never changes meaning, so it may be kept a year. */
const ASSET_HEADERS = {
  'cache-control': 'public, max-age=31536000, immutable',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;
const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Latchkey</title></head>
<body>
<h1>Latchkey is running, but its UI is not built</h1>
<p>The broker is up. Build the UI with <code>npm run build</code> (or start Latchkey with <code>npm start</code>,
which builds it), then reload this page. Meanwhile, <code>npx latchkey --help</code> manages Latchkey from the terminal.</p>
</body>
</html>
`;

/**
 * Where the built UI is (`renderer/dist` of the repository), found from this file whether it runs from
 * source (tests), from tsc's output or from the CLI bundle. Null when there is no renderer beside it.
 */
export function findUiDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    if (existsSync(join(dir, 'renderer', 'index.html'))) return join(dir, 'renderer', 'dist');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/**
 * The React UI in headless mode (issue 6 item 1): `/ui/` is its page, `/ui/assets/*` its hashed files.
 * Routing is in the URL's fragment (`/ui/#/applications`), so no other path needs the page. Files are
 * read per request: a rebuild shows on reload. Without a build, `/ui/` says how to make one.
 */
export function registerUi(app: FastifyInstance, uiDir: string | null): void {
  app.get('/', async (_request, reply) => reply.redirect('/ui/', 303));
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/', async (_request, reply) => {
    const page = uiDir ? await readIfPresent(join(uiDir, 'index.html')) : null;
    return reply.headers(UI_PAGE_HEADERS).type('text/html; charset=utf-8').send(page ?? NOT_BUILT);
  });
  app.get('/ui/assets/:file', async (request, reply) => {
    const file = (request.params as { file: string }).file;
    const type = CONTENT_TYPES[file.slice(file.lastIndexOf('.') + 1)];
    // The name is one path segment of known characters: nothing outside assets/ can be named.
    const content = uiDir && type && ASSET_NAME.test(file) && !file.includes('..') ? await readIfPresent(join(uiDir, 'assets', file)) : null;
    if (!content) return notFound(reply);
    return reply.headers(ASSET_HEADERS).type(type!).send(content);
  });
}

function notFound(reply: FastifyReply): FastifyReply {
  return sendError(reply, new NotFound());
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch {
    return null;
  }
}
