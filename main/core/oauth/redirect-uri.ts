/**
 * Redirect URIs: what may be registered, and when a presented one matches a registered one.
 * OAuth 2.1 §2.3.1 and RFC 8252 §7.
 */

/** Schemes that would run or read something in the browser instead of reaching a client. */
const DANGEROUS_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'about:', 'blob:', 'filesystem:', 'view-source:', 'chrome:', 'ws:', 'wss:', 'ftp:', 'mailto:']);

/**
 * Why a redirect URI may not be registered, or null when it may: https; http only on loopback
 * (RFC 8252 §7.3; `localhost` is accepted but matched exactly); or a private-use scheme in reverse
 * domain-name form (RFC 8252 §7.1). Never a fragment or userinfo (OAuth 2.1 §2.3.1).
 */
export function redirectUriProblem(value: string): string | null {
  if (value.length > 2048) return 'is too long';
  if ([...value].some((char) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f || char === '\\')) return 'contains whitespace, a control character or a backslash';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URI';
  }
  if (DANGEROUS_SCHEMES.has(url.protocol)) return `may not use the ${url.protocol} scheme`;
  if (value.includes('#')) return 'may not contain a fragment';
  if (url.username || url.password) return 'may not contain userinfo';
  if (url.protocol === 'https:') return url.hostname ? null : 'needs a host';
  if (url.protocol === 'http:') {
    return ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname) ? null : 'may use http only on loopback (127.0.0.1, [::1] or localhost); use https otherwise';
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it contains a period.
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)) return null;
  return 'must be https, loopback http, or a private-use scheme such as com.example.app:/callback';
}

/** http://127.0.0.1[:port]/… and http://[::1][:port]/…: the only URIs whose port may differ (RFC 8252 §7.3). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?$/;

/**
 * Whether a presented redirect URI matches a registered one: exactly, character for character
 * (OAuth 2.1 §2.3.1: simple string comparison), except that for a loopback IP literal the port may
 * differ (RFC 8252 §7.3). Nothing is normalized: another case, path, query, encoding, userinfo or
 * loopback spelling is another URI.
 */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  const want = LOOPBACK.exec(registered);
  const got = LOOPBACK.exec(presented);
  if (!want || !got) return false;
  const port = got[2] === undefined ? 80 : Number(got[2]);
  if (port < 1 || port > 65_535 || (got[2] !== undefined && got[2].startsWith('0'))) return false;
  if (presented.includes('#')) return false;
  return want[1] === got[1] && (want[3] ?? '') === (got[3] ?? '');
}

/** Appends response parameters to a redirect URI without normalizing what the client registered. */
export function withQuery(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}

/**
 * Whether whoever receives a code at this redirect URI is proven to be the client: only an https URI is
 * (RFC 8252 §8.6: any local process can listen on a loopback port, or claim a private-use scheme).
 */
export const redirectProvesReceiver = (redirectUri: string): boolean => redirectUri.startsWith('https://');
