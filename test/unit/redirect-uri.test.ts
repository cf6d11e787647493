// Redirect URIs (OAuth 2.1 §2.3.1, RFC 8252 §7): what may be registered, and exact matching with
// the loopback port exception only.
import { describe, expect, it } from 'vitest';
import { redirectUriMatches, redirectUriProblem, withQuery } from '../../main/core/oauth/redirect-uri.js';
import { isWellFormedChallenge, isWellFormedVerifier, verifierMatches } from '../../main/core/sts/pkce.js';
import { isSafeNext } from '../../main/core/consent/ui-sessions.js';

describe('redirect URI registration', () => {
  it.each(['https://app.example/cb', 'http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb', 'http://[::1]:9/cb', 'http://localhost:3000/callback', 'com.example.app:/oauth2redirect'])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeNull();
  });
  it.each([
    'javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x', 'about:blank', 'blob:https://a/b',
    'http://app.example/cb', 'https://app.example/cb#f', 'https://u:p@app.example/cb', 'myapp:/cb', 'relative/cb', 'https://app.example/c b', 'https://app.example/\\cb',
  ])('refuses %s', (uri) => {
    expect(redirectUriProblem(uri)).not.toBeNull();
  });
});

describe('redirect URI matching', () => {
  it('is exact', () => {
    expect(redirectUriMatches('https://app.example/cb', 'https://app.example/cb')).toBe(true);
    for (const other of ['https://app.example/CB', 'https://APP.example/cb', 'https://app.example/cb/', 'https://app.example/cb?x=1', 'https://app.example:443/cb', 'https://app.example/%63b']) {
      expect(redirectUriMatches('https://app.example/cb', other)).toBe(false);
    }
  });
  it('lets only the port of a loopback IP literal differ (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:51004/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]:8080/cb', 'http://[::1]:1/cb')).toBe(true);
    expect(redirectUriMatches('http://localhost:8080/cb', 'http://localhost:9090/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb2')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:99999/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:08080/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb#x')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1@evil.example:9090/cb')).toBe(false);
  });
  it('adds response parameters without touching what was registered', () => {
    expect(withQuery('com.example.app:/cb', { code: 'c', state: undefined })).toBe('com.example.app:/cb?code=c');
    expect(withQuery('https://a.example/cb?tenant=1', { code: 'c' })).toBe('https://a.example/cb?tenant=1&code=c');
  });
});

describe('PKCE (RFC 7636)', () => {
  it('checks S256 with the RFC\'s own example (appendix B)', () => {
    expect(verifierMatches('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
    expect(verifierMatches('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(false);
  });
  it('knows a well-formed challenge and verifier', () => {
    expect(isWellFormedChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
    expect(isWellFormedChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c')).toBe(false);
    expect(isWellFormedVerifier('a'.repeat(42))).toBe(false);
    expect(isWellFormedVerifier('a'.repeat(129))).toBe(false);
    expect(isWellFormedVerifier(`${'a'.repeat(42)}~`)).toBe(true);
  });
});

describe('login link next', () => {
  it('leads only to the authorization endpoint', () => {
    expect(isSafeNext('/oauth2/authorize')).toBe(true);
    expect(isSafeNext('/oauth2/authorize?client_id=app_1&scope=a+b')).toBe(true);
    for (const next of ['//evil.example', '/oauth2/authorize/../x', '/oauth2/authorizex', 'https://evil.example/oauth2/authorize', '/oauth2/authorize?\\', "/oauth2/authorize?x='"]) {
      expect(isSafeNext(next)).toBe(false);
    }
  });
});
