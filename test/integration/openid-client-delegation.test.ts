// Independent clients, unmodified, prove the user-delegation protocol: openid-client v6 runs
// authorization code + PKCE (ID token signature checked with enableNonRepudiationChecks), refresh and
// userinfo; oauth4webapi's validateAuthResponse accepts the authorization response and its `iss`
// (RFC 9207). The test plays the browser: a UI session from a login link, the consent form posted.
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.js';
import { Browser, consentForm, ensureResource, registerDelegatedApp, setupOwner, type DelegatedApp } from '../support/browser.js';

const NOTES = 'https://notes.example.test/api';

describe('user delegation with independent clients', () => {
  let test: TestBroker;
  let browser: Browser;
  let userId: string;
  let publicApp: DelegatedApp;
  let confidentialApp: DelegatedApp;

  beforeAll(async () => {
    test = await startBroker();
    userId = await setupOwner(test, 'Grace Hopper', 'grace@example.com');
    await ensureResource(test, NOTES, ['notes:read'], 'Notes');
    publicApp = await registerDelegatedApp(test, { name: 'CLI agent', resources: [NOTES] });
    confidentialApp = await registerDelegatedApp(test, { name: 'IDE plugin', authMethod: 'client_secret_basic', resources: [NOTES] });
    browser = new Browser(test);
    await browser.signIn();
  });
  afterAll(() => test.close());

  /** The user at the consent page: allow, and the browser lands on the client's redirect URI. */
  async function userAllows(authorizationUrl: URL): Promise<URL> {
    const page = await browser.open(authorizationUrl.href);
    expect(page.status).toBe(200);
    const answer = await browser.decide(consentForm(page.html), 'allow');
    expect(answer.status).toBe(303);
    return new URL(answer.location!);
  }

  const cases: Array<[string, () => DelegatedApp, () => client.ClientAuth]> = [
    ['a public client (PKCE alone)', () => publicApp, () => client.None()],
    ['a confidential client (client_secret_basic and PKCE)', () => confidentialApp, () => client.ClientSecretBasic()],
  ];

  it.each(cases)('openid-client, %s: code + PKCE, a verified ID token, userinfo, refresh', async (_name, which, auth) => {
    const app = which();
    const config = await client.discovery(new URL(test.issuer), app.clientId, app.clientSecret, auth(), { execute: [client.allowInsecureRequests] });
    client.enableNonRepudiationChecks(config);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: app.redirectUri, scope: 'openid profile email offline_access', nonce, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });

    const callback = await userAllows(url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: test.issuer, sub: userId, aud: app.clientId, azp: app.clientId, nonce });
    expect(typeof claims.auth_time).toBe('number');

    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(info).toEqual({ sub: userId, name: 'Grace Hopper', email: 'grace@example.com', email_verified: false });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(userId);
    expect(await client.fetchUserInfo(config, refreshed.access_token, userId)).toMatchObject({ sub: userId });
  });

  it('a client registered for ES256 ID tokens gets them, and openid-client verifies them against the JWKS', async () => {
    expect((await client.discovery(new URL(test.issuer), publicApp.clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] }))
      .serverMetadata().id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    const app = await registerDelegatedApp(test, { name: 'ES256 agent', resources: [NOTES], idTokenAlg: 'ES256' });
    const config = await client.discovery(new URL(test.issuer), app.clientId, { id_token_signed_response_alg: 'ES256' }, client.None(), { execute: [client.allowInsecureRequests] });
    client.enableNonRepudiationChecks(config);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: app.redirectUri, scope: 'openid', nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const tokens = await client.authorizationCodeGrant(config, await userAllows(url), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
    expect(JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(tokens.claims()).toMatchObject({ sub: userId, aud: app.clientId, nonce });
  });

  it('an application may not register an ID-token algorithm Latchkey does not sign with', async () => {
    const refused = await test.admin('POST', '/applications', { name: 'HS agent', auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], id_token_signed_response_alg: 'HS256' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_request');
  });

  it('openid-client: a token for a resource (RFC 8707) carries the resource as its audience', async () => {
    const config = await client.discovery(new URL(test.issuer), publicApp.clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: publicApp.redirectUri, scope: 'notes:read', resource: NOTES, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const tokens = await client.authorizationCodeGrant(config, await userAllows(url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.scope).toBe('notes:read');
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ aud: NOTES, sub: userId, client_id: publicApp.clientId });
  });

  it('oauth4webapi: validateAuthResponse accepts the response and its iss (RFC 9207)', async () => {
    const issuer = new URL(test.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const oauthClient: oauth.Client = { client_id: publicApp.clientId };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: publicApp.clientId, redirect_uri: publicApp.redirectUri, scope: 'notes:read',
      resource: NOTES, state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(name, value);

    const callback = await userAllows(url);
    const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
    expect(params.get('iss')).toBe(test.issuer);
    const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, oauth.None(), params, publicApp.redirectUri, verifier, { [oauth.allowInsecureRequests]: true });
    const tokens = await oauth.processAuthorizationCodeResponse(as, oauthClient, response);
    expect(tokens.access_token).toBeTruthy();

    // The same response claiming another issuer is refused by the client: that is what `iss` is for.
    const forged = new URL(callback);
    forged.searchParams.set('iss', 'https://evil.example');
    expect(() => oauth.validateAuthResponse(as, oauthClient, forged, state)).toThrow();
  });
});
