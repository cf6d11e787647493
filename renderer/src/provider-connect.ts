// Connecting the owner's account at an upstream provider (brokered access): the broker starts the
// authorization (code + PKCE, state kept on its side) and answers the provider's login URL; the login
// happens in a tab of its own (the OS browser in the desktop app), and the provider sends it back to the
// broker's callback, never to this page. Used by the Resources page, the Overview and first-run setup.
import type { ProviderView } from '../../shared/admin-api.js';
import { api, segment } from './api.js';

/** Starts connecting (or reconnecting) `provider` and opens its login page; resolves once it is open. */
export async function connectProvider(provider: ProviderView): Promise<void> {
  const { authorization_url } = await api.post<{ authorization_url: string }>(`/providers/${segment(provider.id)}/connect`, {});
  let url: URL;
  try {
    url = new URL(authorization_url);
  } catch {
    throw new Error('The provider answered with an address that is not a web page.');
  }
  // Only a web page: never a javascript: or custom-scheme URL, whatever the provider's metadata said.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('The provider answered with an address that is not a web page.');
  window.open(url.href, '_blank', 'noopener,noreferrer');
}

/** What the page says once the login tab is open. */
export const connectNotice = (provider: ProviderView): string =>
  `The ${provider.name} login opened in a new tab. Sign in there; this page shows the account as connected when you come back.`;
