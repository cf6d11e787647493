// Pure (no electron): unit-tested under Node. The app's windows never navigate away from the app; a link
// elsewhere opens in the OS browser only when it is on this list (so a compromised page cannot make the
// shell launch arbitrary URLs or protocol handlers: file:, smb:, custom schemes).

/** Documentation the UI links to. https only, exact origin; any path. */
export const EXTERNAL_ORIGINS: readonly string[] = [
  'https://github.com',
  'https://datatracker.ietf.org',
  'https://www.rfc-editor.org',
  'https://openid.net',
  'https://www.cedarpolicy.com',
  'https://docs.cedarpolicy.com',
];

/**
 * Whether a link may be opened in the OS browser. Besides the list, the broker's own loopback origin
 * (`issuer`): its browser pages (the consent page, a provider's connect flow) are meant for a browser.
 */
export function externalLinkAllowed(link: string, issuer?: string | null): boolean {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (issuer) {
    const own = new URL(issuer);
    if (url.protocol === 'http:' && url.origin === own.origin) return true;
  }
  return url.protocol === 'https:' && EXTERNAL_ORIGINS.includes(url.origin);
}
