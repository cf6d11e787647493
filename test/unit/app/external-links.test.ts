// The shell's windows never navigate away; a link out opens in the OS browser only when allowlisted.
import { describe, expect, it } from 'vitest';
import { externalLinkAllowed, providerLoginOrigins } from '../../../main/app/external-links.js';

describe('external link allowlist', () => {
  it('opens the documentation the UI links to (https, exact origin, any path)', () => {
    expect(externalLinkAllowed('https://datatracker.ietf.org/doc/html/rfc8693')).toBe(true);
    expect(externalLinkAllowed('https://github.com/latchkey/latchkey/issues')).toBe(true);
    expect(externalLinkAllowed('https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html')).toBe(true);
  });

  it('opens the broker\'s own loopback pages (consent, provider connect), and only on its own port', () => {
    expect(externalLinkAllowed('http://127.0.0.1:4870/oauth2/authorize?x=1', 'http://127.0.0.1:4870')).toBe(true);
    expect(externalLinkAllowed('http://127.0.0.1:4871/', 'http://127.0.0.1:4870')).toBe(false);
    expect(externalLinkAllowed('http://127.0.0.1:4870/', null)).toBe(false);
  });

  it('opens a registered provider\'s login page (Connect in the UI), at its exact origin, https or loopback http only', () => {
    const origins = providerLoginOrigins([
      { issuer: 'https://accounts.example.com', endpoints: null },
      { issuer: null, endpoints: { authorizationEndpoint: 'https://github.example/login/oauth/authorize' } },
      { issuer: 'http://127.0.0.1:9000', endpoints: null },
    ]);
    expect(origins).toEqual(['https://accounts.example.com', 'https://github.example', 'http://127.0.0.1:9000']);
    expect(externalLinkAllowed('https://accounts.example.com/auth?client_id=x&state=y', null, origins)).toBe(true);
    expect(externalLinkAllowed('https://github.example/login/oauth/authorize?x=1', null, origins)).toBe(true);
    expect(externalLinkAllowed('http://127.0.0.1:9000/auth', null, origins)).toBe(true);
    // Not another provider's look-alike, port or scheme; and without providers, nothing of theirs.
    for (const link of ['https://accounts.example.com.evil.example/', 'https://accounts.example.com:8443/', 'http://accounts.example.com/', 'http://127.0.0.1:9001/', 'https://user@accounts.example.com/']) {
      expect(externalLinkAllowed(link, null, origins), link).toBe(false);
    }
    expect(externalLinkAllowed('https://accounts.example.com/auth')).toBe(false);
    // An origin that is neither https nor loopback is never opened, whoever listed it.
    expect(externalLinkAllowed('http://idp.example.test/auth', null, ['http://idp.example.test'])).toBe(false);
  });

  it('refuses other schemes a compromised page could launch (file, smb, custom handlers, javascript, data)', () => {
    for (const link of ['file:///etc/passwd', 'smb://host/share', 'ms-settings:privacy', 'vscode://x', 'javascript:alert(1)', 'data:text/html,x', 'latchkey://ui/']) {
      expect(externalLinkAllowed(link), link).toBe(false);
    }
  });

  it('refuses plain http, look-alike hosts, other ports, userinfo and junk', () => {
    for (const link of ['http://github.com/', 'https://github.com.evil.example/', 'https://evilgithub.com/', 'https://github.com:8443/', 'https://user@github.com/', 'https://gist.github.com/', 'not a url', '']) {
      expect(externalLinkAllowed(link), link).toBe(false);
    }
  });
});
