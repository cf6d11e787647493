// Pure (no electron): unit-tested under Node. The Content-Security-Policy of each page the shell serves
// from its own protocol: only its own files, no inline script, no eval, no frames, no plugins. The UI
// reaches the admin API at its own origin (`/api/...`, forwarded by main), so connect-src 'self' is enough.

const common = ["base-uri 'none'", "object-src 'none'", "frame-src 'none'", "frame-ancestors 'none'", "form-action 'none'"];

/** The React UI (renderer/dist). */
export const UI_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'", "manifest-src 'self'", ...common].join('; ');

/** The consent window: a static page and its script; it reaches nothing but IPC. */
export const PROMPT_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'none'", "connect-src 'none'", ...common].join('; ');
