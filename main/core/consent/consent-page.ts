// The pages a browser sees at the authorization endpoint: server-rendered, no script, every value escaped.
import { PAGE_HEADERS } from '../transport/page-headers.js';

/** HTML-escapes text for element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Headers of the consent and sign-in pages (issue 3 item 2): no framing (frame-ancestors 'none' and
 * X-Frame-Options), no script at all, no caching, no referrer outside the broker. The form may post only back here and,
 * since browsers apply form-action to the redirect that answers the post, on to the client's redirect URI.
 */
export function pageHeaders(redirectTarget?: string): Record<string, string> {
  const formAction = redirectTarget ? `'self' ${redirectTarget}` : "'self'";
  return {
    ...PAGE_HEADERS,
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action ${formAction}`,
    // Not no-referrer: under it a browser sends `Origin: null` with the consent form's POST (Fetch §3.1,
    // "append a request Origin header"), which the Origin check refuses. same-origin keeps the referrer
    // from ever leaving the broker, the redirect to the client included.
    'referrer-policy': 'same-origin',
  };
}

/** What form-action must allow for a redirect URI: its origin, or its private-use scheme. */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
code{background:#f0f2f4;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
.unverified{color:#8a1c1c;font-weight:600}.scopes{margin:.25rem 0 1rem}
.hop-2{margin-left:1.5rem}.hop-3{margin-left:3rem}.hop-deeper{margin-left:4.5rem}
button{font:inherit;padding:.4rem 1.2rem;margin-right:.5rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Latchkey</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface ConsentPageView {
  transactionId: string;
  csrfToken: string;
  applicationName: string;
  /** Registered by the admin, or dynamically (RFC 7591) and so unverified. */
  registration: 'admin' | 'dynamic';
  redirectHost: string;
  userName: string;
  /** `upstream`: a brokered resource, reached with the user's account at that provider with those scopes. */
  resources: Array<{ name: string; identifier: string; scopes: string[]; upstream?: { provider: string; scopes: string[] } }>;
  /** The OpenID Connect scopes asked for (openid, profile, email, offline_access). */
  identityScopes: string[];
  /** What the resources' serving applications may in turn reach for the user (issue 4 item 1), by depth. */
  downstream: Array<{ depth: number; applicationName: string; resourceName: string; identifier: string; scopes: string[] }>;
  /** Upstream accounts the requested brokered resources need and the user has not connected (issue 5 item 4). */
  connect: Array<{ providerId: string; providerName: string; needsAttention: boolean }>;
  /** Issue 12 §1: the owner has a passphrase and this session has not proven presence: Allow asks for it. */
  askPassphrase: boolean;
  /**
   * Issue 12 §4: the user allowed this before, but the client's identity cannot be assured (public client,
   * loopback or private-use redirect): one click continues.
   */
  continuing?: boolean;
}

const IDENTITY_SCOPE_TEXT: Record<string, string> = {
  openid: 'know who you are (your Latchkey user id)',
  profile: 'see your name',
  email: 'see your email address',
  offline_access: 'keep this access when you are away (a refresh token)',
};

export function renderConsentPage(view: ConsentPageView): string {
  const who = view.registration === 'dynamic'
    ? `<p class="unverified">Unverified application: it registered itself; Latchkey cannot vouch for its name.</p>`
    : '<p>Registered by your Latchkey admin.</p>';
  const resources = view.resources.map((resource) => `<li><strong>${escapeHtml(resource.name)}</strong> <code>${escapeHtml(resource.identifier)}</code>
<div class="scopes">${resource.upstream
    ? `with your ${escapeHtml(resource.upstream.provider)} account: ${resource.upstream.scopes.length ? resource.upstream.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ') : 'its scopes'}`
    : resource.scopes.length ? resource.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ') : 'no scopes'}</div></li>`).join('\n');
  const scopeList = (scopes: string[]) => scopes.length ? scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ') : 'no scopes';
  const hops = view.downstream.map((hop) => `<li class="${hop.depth <= 1 ? 'hop-1' : hop.depth <= 3 ? `hop-${hop.depth}` : 'hop-deeper'}"><strong>${escapeHtml(hop.applicationName)}</strong> may reach <strong>${escapeHtml(hop.resourceName)}</strong> <code>${escapeHtml(hop.identifier)}</code>
<div class="scopes">${scopeList(hop.scopes)}</div></li>`).join('\n');
  const downstream = view.downstream.length
    ? `<h2>What they may reach for you in turn</h2>\n<p>Allowing this also lets the services above pass your access on, each step only this far:</p>\n<ul>\n${hops}\n</ul>`
    : '';
  // Each its own form, carrying the page's transaction and CSRF token; it leads to the provider and back here.
  const connect = view.connect.map((offer) => `<form method="post" action="/oauth2/providers/connect">
<input type="hidden" name="transaction" value="${escapeHtml(view.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">
<input type="hidden" name="provider" value="${escapeHtml(offer.providerId)}">
<p>Your <strong>${escapeHtml(offer.providerName)}</strong> account ${offer.needsAttention ? 'needs to be connected again' : 'is not connected yet'}. <button type="submit">Connect ${escapeHtml(offer.providerName)}</button></p>
</form>`).join('\n');
  const connectSection = view.connect.length
    ? `<h2>Connect your accounts</h2>\n<p>Some of these resources are reached with your account at another service. Connect it before you allow this; you come back to this page.</p>\n${connect}`
    : '';
  const identity = view.identityScopes.map((scope) => `<li><code>${escapeHtml(scope)}</code>: ${escapeHtml(IDENTITY_SCOPE_TEXT[scope] ?? scope)}</li>`).join('\n');
  const passphrase = view.askPassphrase
    ? `<p><label>Your owner passphrase (an agent on this computer cannot type it) <input type="password" name="owner_passphrase" autocomplete="current-password" maxlength="1024"></label></p>`
    : '';
  const form = (fields: string, allow: string, deny: string) => `<form method="post" action="/oauth2/authorize">
<input type="hidden" name="transaction" value="${escapeHtml(view.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">
${fields}
<button type="submit" name="decision" value="allow">${allow}</button>
<button type="submit" name="decision" value="deny">${deny}</button>
</form>`;
  if (view.continuing) {
    return page('Continue?', `<h1>Continue to <em>${escapeHtml(view.applicationName)}</em> as ${escapeHtml(view.userName)}?</h1>
${who}
<p>You allowed this before. Latchkey cannot be sure which program on this computer receives the answer at
<code>${escapeHtml(view.redirectHost)}</code>, so it asks for your click each time: continue only if you just started this.</p>
${view.resources.length ? `<h2>Resources</h2>\n<ul>\n${resources}\n</ul>` : ''}
${form(passphrase, 'Continue', 'Cancel')}`);
  }
  return page('Allow access?', `<h1>Allow <em>${escapeHtml(view.applicationName)}</em> to act for you?</h1>
${who}
<p>Signed in as ${escapeHtml(view.userName)}. After your answer you go back to <code>${escapeHtml(view.redirectHost)}</code>.</p>
${view.resources.length ? `<h2>Resources</h2>\n<ul>\n${resources}\n</ul>` : ''}
${downstream}
${view.identityScopes.length ? `<h2>About you</h2>\n<ul>\n${identity}\n</ul>` : ''}
${form(`<p><label><input type="checkbox" name="remember" value="yes"> Remember this decision</label></p>\n${passphrase}`, 'Allow', 'Deny')}
${connectSection}`);
}

/**
 * Without a session: how to sign in, and how to come back to this same request. `next` is this
 * request's own path, re-serialized by the caller, so it holds only URL-safe characters.
 */
export function renderSignInPage(next: string): string {
  const command = `latchkey login-url --next '${next}'`;
  return page('Sign in', `<h1>Sign in to Latchkey</h1>
<p>An application is asking to act for you. First show Latchkey that it is you:</p>
<ul>
<li>open the Latchkey app, or</li>
<li>run <code>${escapeHtml(command)}</code> and open the link it prints; it brings you back here.</li>
</ul>
<p>Already signed in in this browser? <a href="${escapeHtml(next)}">Continue</a>.</p>`);
}

/** An error that must not be sent to the client's redirect URI (OAuth 2.1 §4.1.2.1): shown to the user instead. */
export function renderErrorPage(title: string, message: string): string {
  return renderMessagePage(title, message);
}

/** A page that says one thing (an upstream account connected, or why it was not), then lets the user go. */
export function renderMessagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n<p>You can close this window.</p>`);
}
