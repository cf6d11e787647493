// Pure (no electron): unit-tested under Node. What a `latchkey://` request is: a file of the UI, a file of
// the consent window, or an admin API call to forward. Anything else is not found. File paths are decided
// here, relative and normalised, so the protocol handler never joins a request's path onto a directory.
import { APP_SCHEME, PROMPT_HOST, UI_HOST } from '../../shared/ipc.js';
import { PROMPT_CSP, UI_CSP } from './content-security-policy.js';

export type AppRoute =
  | { kind: 'file'; host: typeof UI_HOST | typeof PROMPT_HOST; file: string; contentType: string; csp: string }
  | { kind: 'api'; pathAndQuery: string }
  | { kind: 'not_found' };

/** The consent window's files: exactly these. */
export const PROMPT_FILES: readonly string[] = ['prompt.html', 'prompt.css', 'prompt-page.js'];

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

export function routeAppRequest(method: string, requestUrl: string): AppRoute {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { kind: 'not_found' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.username !== '' || url.password !== '' || url.port !== '') return { kind: 'not_found' };
  if (url.host === UI_HOST && (url.pathname === '/api' || url.pathname.startsWith('/api/'))) return { kind: 'api', pathAndQuery: `${url.pathname}${url.search}` };
  // Files are only read.
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'not_found' };
  const path = safeRelativePath(url.pathname);
  if (path === null) return { kind: 'not_found' };
  if (url.host === PROMPT_HOST) {
    return PROMPT_FILES.includes(path) ? file(PROMPT_HOST, path, PROMPT_CSP) : { kind: 'not_found' };
  }
  if (url.host === UI_HOST) {
    // A single-page app: a path without a file extension is a route of the UI, answered with index.html.
    const last = path.split('/').at(-1) ?? '';
    return file(UI_HOST, path === '' || !last.includes('.') ? 'index.html' : path, UI_CSP);
  }
  return { kind: 'not_found' };
}

function file(host: typeof UI_HOST | typeof PROMPT_HOST, path: string, csp: string): AppRoute {
  const extension = path.split('.').at(-1)!.toLowerCase();
  const contentType = CONTENT_TYPES[extension];
  return contentType ? { kind: 'file', host, file: path, contentType, csp } : { kind: 'not_found' };
}

/** The decoded path without its leading slash; null for anything that could leave the directory. */
export function safeRelativePath(pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  // Control characters (NUL truncates paths in C), backslashes (Windows separators) and colons (drive letters, streams).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\:]/.test(decoded)) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..' || segment.startsWith('.'))) return null;
  return segments.join('/');
}
