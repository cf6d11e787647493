import { shell, type Session, type WebContents } from 'electron';
import { APP_SCHEME } from '../../shared/ipc.js';
import type { Logger } from '../core/logger.js';
import { externalLinkAllowed } from './external-links.js';

/**
 * The web side of the shell, locked down as VS Code and Signal do: every permission denied, no downloads,
 * no requests to the network from a page (the UI reaches the broker through `latchkey://ui/api`), no
 * navigation away from the app, no new windows, no <webview>. A link out opens in the OS browser when
 * allowlisted (external-links.ts) and is dropped otherwise.
 */
export class WebSecurity {
  constructor(
    private readonly issuer: () => string | null,
    private readonly log: Logger,
    /** Origins of the registered providers' login pages (external-links.ts `providerLoginOrigins`). */
    private readonly providerOrigins: () => readonly string[] = () => [],
  ) {}

  hardenSession(session: Session): void {
    session.setPermissionRequestHandler((_contents, permission, callback) => {
      this.log.warn(`a page asked for the ${permission} permission: denied`);
      callback(false);
    });
    session.setPermissionCheckHandler(() => false);
    session.setDevicePermissionHandler(() => false);
    session.on('will-download', (event) => event.preventDefault());
    // Pages load only from latchkey://; http(s), ws(s) and file are refused before they leave (CSP says so too).
    session.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
      const allowed = details.url.startsWith(`${APP_SCHEME}:`) || details.url.startsWith('devtools:');
      if (!allowed) this.log.warn(`a page tried to load ${redact(details.url)}: refused`);
      callback({ cancel: !allowed });
    });
  }

  hardenContents(contents: WebContents): void {
    const stay = (event: { preventDefault(): void }, url: string): void => {
      if (sameAppPage(contents.getURL(), url)) return;
      event.preventDefault();
      this.openOutside(url);
    };
    contents.on('will-navigate', (event) => stay(event, event.url));
    contents.on('will-frame-navigate', (event) => { if (!event.isMainFrame) stay(event, event.url); });
    contents.on('will-redirect', (event) => stay(event, event.url));
    contents.setWindowOpenHandler(({ url }) => {
      this.openOutside(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  }

  /** Opens an allowlisted link in the OS browser; true when it did. */
  openOutside(url: string): boolean {
    if (!externalLinkAllowed(url, this.issuer(), this.providerOrigins())) {
      this.log.warn(`a page tried to open ${redact(url)}: not on the allowlist`);
      return false;
    }
    void shell.openExternal(url);
    return true;
  }
}

/** Navigation within the page's own app host (a reload, a route of the UI); never to another host. */
function sameAppPage(current: string, next: string): boolean {
  try {
    const from = new URL(current);
    const to = new URL(next);
    return to.protocol === `${APP_SCHEME}:` && from.protocol === `${APP_SCHEME}:` && to.host === from.host;
  } catch {
    return false;
  }
}

/** A URL for the log: its origin and path only (a query may hold a code or a token). */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
