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
 * (`issuer`): its browser pages (the consent page, a provider's connect flow) are meant for a browser; and
 * the login pages of the upstream providers the owner registered (`providerOrigins`, from
 * `providerLoginOrigins`): Connect in the UI opens the provider's authorization URL there.
 */
export function externalLinkAllowed(link: string, issuer?: string | null, providerOrigins: readonly string[] = []): boolean {
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
  // Providers are https, or plain http on loopback only (the broker refuses any other at registration).
  if (providerOrigins.includes(url.origin) && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) return true;
  return url.protocol === 'https:' && EXTERNAL_ORIGINS.includes(url.origin);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The origins where the registered providers' logins live: each one's authorization endpoint when given,
 * else its issuer (discovery puts the authorization endpoint there for the providers we know of).
 */
export function providerLoginOrigins(providers: ReadonlyArray<{ issuer: string | null; endpoints: { authorizationEndpoint: string } | null }>): string[] {
  const origins = new Set<string>();
  for (const provider of providers) {
    const url = provider.endpoints?.authorizationEndpoint ?? provider.issuer;
    if (!url) continue;
    try {
      origins.add(new URL(url).origin);
    } catch {
      // A provider the broker stored is a URL; anything else opens nothing.
    }
  }
  return [...origins];
}
