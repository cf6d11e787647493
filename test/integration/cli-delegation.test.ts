// The `latchkey` command for user delegation (issue 3 items 8 and 9), the built CLI against a real
// `latchkey serve`: app create --redirect-uri with the authorization_code and refresh_token grants,
// login-url (the link is the last line), consent list and consent revoke.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, postJson, type TestBroker } from '../support/broker.js';
import { Browser, pkce } from '../support/browser.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, rowCounts, ServeProcess, stopAllChildren } from '../support/cli.js';

const NOTES = 'https://notes.example.test/api';
const REDIRECT = 'http://127.0.0.1:43123/callback';

describe('latchkey for user delegation', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let app: { client_id: string; grant_types: string[]; redirect_uris: string[]; id_token_signed_response_alg: string };
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir]);
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-delegation-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    await cliJson('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    await cliJson('resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read');
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('app create takes --redirect-uri (repeatable) and the authorization_code and refresh_token grants', async () => {
    app = await cliJson('app', 'create', '--name', 'Notes agent', '--auth', 'none', '--resource', NOTES,
      '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', REDIRECT, '--redirect-uri', 'com.example.notes:/callback');
    expect(app.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(app.redirect_uris).toEqual([REDIRECT, 'com.example.notes:/callback']);
    expect(app.id_token_signed_response_alg).toBe('RS256');
    const es256 = await cliJson('app', 'create', '--name', 'ES256 agent', '--auth', 'none', '--grant', 'authorization_code', '--redirect-uri', REDIRECT, '--id-token-alg', 'ES256');
    expect(es256.id_token_signed_response_alg).toBe('ES256');
  });

  it('login-url prints a one-time link as its last line; it signs the browser in, the consent is listed, and revoking it ends the refresh token', async () => {
    const printed = await cli('login-url');
    expect(printed.code, printed.stderr).toBe(0);
    const link = printed.stdout.trimEnd().split('\n').at(-1)!;
    expect(link).toMatch(new RegExp(`^${serve.issuer}/ui/login\\?token=[A-Za-z0-9_-]{43}$`));

    const browser = new Browser({ issuer: serve.issuer } as TestBroker);
    expect((await browser.open(link)).status).toBe(303);
    const { verifier, challenge } = pkce();
    const { code } = await browser.authorizeAndAllow({ response_type: 'code', client_id: app.client_id, redirect_uri: REDIRECT,
      code_challenge: challenge, code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES });
    const tokens = (await postForm(`${serve.issuer}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: app.client_id })).body;
    expect(tokens.refresh_token).toBeTruthy();

    const consents = await cliJson<any[]>('consent', 'list');
    expect(consents).toEqual([expect.objectContaining({ client_id: app.client_id, application: 'Notes agent', registration: 'admin', resources: [NOTES], scopes: ['notes:read'], remembered: false, revoked_at: null })]);
    const human = await cli('consent', 'list');
    expect(human.stdout).toContain(consents[0].id);

    const revoked = await cliJson<any[]>('consent', 'revoke', '--app', app.client_id);
    expect(revoked.map((consent) => consent.id)).toEqual([consents[0].id]);
    expect(await cliJson('consent', 'list')).toEqual([]);
    expect((await cliJson<any[]>('consent', 'list', '--all'))[0].revoked_at).toBeTruthy();
    const refreshed = await postForm(`${serve.issuer}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.client_id });
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('app list marks a dynamically registered client unverified; app delete removes it', async () => {
    const registered = await postJson(`${serve.issuer}/oauth2/register`, { client_name: 'Self-registered agent', redirect_uris: [REDIRECT] });
    expect(registered.status).toBe(201);
    const clientId = registered.body.client_id as string;
    const line = (await cli('app', 'list')).stdout.split('\n').find((row) => row.startsWith(clientId))!;
    expect(line).toContain('Self-registered agent');
    expect(line).toMatch(/unverified/);
    expect((await cli('app', 'list')).stdout.split('\n').find((row) => row.startsWith(app.client_id))).not.toMatch(/unverified/);
    const deleted = await cliJson('app', 'delete', clientId);
    expect(deleted).toMatchObject({ client_id: clientId, deleted: true, registration: 'dynamic' });
    expect((await cliJson<Array<{ client_id: string }>>('app', 'list')).map((a) => a.client_id)).not.toContain(clientId);
    const again = await cli('app', 'delete', clientId);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/unknown application/);
  });

  it('consent revoke CONSENT_ID withdraws one consent', async () => {
    const browser = new Browser({ issuer: serve.issuer } as TestBroker);
    const link = (await cli('login-url')).stdout.trimEnd().split('\n').at(-1)!;
    await browser.open(link);
    await browser.authorizeAndAllow({ response_type: 'code', client_id: app.client_id, redirect_uri: REDIRECT,
      code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'notes:read', resource: NOTES }, { remember: true });
    const [consent] = await cliJson<any[]>('consent', 'list', '--app', app.client_id);
    expect(consent.remembered).toBe(true);
    const result = await cliJson<any[]>('consent', 'revoke', consent.id);
    expect(result[0]).toMatchObject({ id: consent.id, withdrawn: true });
    expect(await cliJson('consent', 'list')).toEqual([]);
  });

  describe('bad input: one line naming the problem, a non-zero exit, and nothing written', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a javascript: redirect URI', ['--redirect-uri', 'javascript:alert(1)'], /--redirect-uri "javascript:alert\(1\)": may not use the javascript: scheme/],
      ['a data: redirect URI', ['--redirect-uri', 'data:text/html,hi'], /may not use the data: scheme/],
      ['a file: redirect URI', ['--redirect-uri', 'file:///etc/passwd'], /may not use the file: scheme/],
      ['plain http off loopback', ['--redirect-uri', 'http://evil.example/callback'], /http only on loopback/],
      ['a fragment', ['--redirect-uri', `${REDIRECT}#x`], /fragment/],
      ['userinfo', ['--redirect-uri', 'https://user:pw@app.example/cb'], /userinfo/],
      ['a scheme that is not a reverse domain name', ['--redirect-uri', 'myapp:/callback'], /private-use scheme/],
      ['not a URI', ['--redirect-uri', '/callback'], /not an absolute URI/],
      ['authorization_code without a redirect URI', [], /needs at least one redirect URI/],
      ['an ID-token algorithm Latchkey does not sign with', ['--redirect-uri', REDIRECT, '--id-token-alg', 'HS256'], /--id-token-alg: /],
    ];
    it.each(cases)('%s', async (_name, flags, problem) => {
      const before = rowCounts(dataDir);
      const result = await cli('app', 'create', '--name', 'Bad', '--auth', 'none', '--grant', 'authorization_code', ...flags);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(problem);
      expect(rowCounts(dataDir)).toEqual(before);
    });

    it('login-url --next that leaves the authorization endpoint', async () => {
      const before = rowCounts(dataDir);
      const result = await cli('login-url', '--next', '//evil.example/');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/--next: must be a relative path to \/oauth2\/authorize/);
      expect(rowCounts(dataDir)).toEqual(before);
    });

    it('consent revoke of an unknown consent', async () => {
      const result = await cli('consent', 'revoke', 'cns_nope');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/unknown consent/);
    });
  });
});
