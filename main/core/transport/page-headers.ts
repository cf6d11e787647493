/** Headers for every page the broker serves to a browser: no framing, no inline script, no caching. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

/**
 * The React UI's policy (issue 6 item 2): its own scripts and styles only (no inline script or style, no
 * eval), its requests to this broker only, never framed.
 */
export const UI_CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
