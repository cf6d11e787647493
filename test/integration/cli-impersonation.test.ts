// The `latchkey` command for impersonation (issue 4 item 2), the built CLI against a real `latchkey serve`:
// app create --consent implicit, app update (--resource, --grant, --consent, --allow/--deny-impersonation),
// consent grant --background, consent list, consent revoke; the agent impersonates over the serve's socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, postForm } from '../support/broker.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';
import { postFormOverSocket } from '../support/local-socket.js';

const NOTES = 'https://notes.example.test/api';
const CALENDAR = 'https://calendar.example.test/api';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';

describe('latchkey for impersonation', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let owner: { id: string };
  let app: { client_id: string; client_secret: string };
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir]);
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const impersonate = (resource = NOTES) => postFormOverSocket(serve.runtime!.socket!, '/oauth2/token',
    { grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource },
    { authorization: basicAuth(app.client_id, app.client_secret) });

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-impersonation-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    owner = await cliJson('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    await cliJson('resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read', '--scope', 'notes:write');
    await cliJson('resource', 'create', '--name', 'Calendar', '--identifier', CALENDAR, '--scope', 'cal:read');
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('app create takes --consent implicit; impersonation is refused until the admin allows it', async () => {
    app = await cliJson('app', 'create', '--name', 'Background indexer', '--kind', 'service', '--grant', 'token-exchange', '--resource', NOTES, '--consent', 'implicit');
    expect(app).toMatchObject({ consent_mode: 'implicit', allow_impersonation: false, grant_types: [TOKEN_EXCHANGE] });
    expect((await impersonate()).body.error).toBe('unauthorized_client');
  });

  it('app update adds a resource and a grant, allows impersonation, and audits it', async () => {
    const updated = await cliJson('app', 'update', app.client_id, '--resource', CALENDAR, '--grant', 'client_credentials', '--allow-impersonation');
    expect(updated).toMatchObject({ resources: [CALENDAR, NOTES], grant_types: [TOKEN_EXCHANGE, 'client_credentials'], allow_impersonation: true });
    const human = await cli('app', 'update', app.client_id, '--consent', 'implicit');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('nothing changed');
    const audited = await cliJson<any[]>('audit', 'list', '--event', 'admin.impersonation_allowed');
    expect(audited).toEqual([expect.objectContaining({ client_id: app.client_id })]);
    // Without the user's background grant, still refused.
    expect((await impersonate()).body.error).toBe('access_denied');
  });

  it('consent grant --background lets the agent impersonate over the socket; consent list shows it; consent revoke ends it', async () => {
    const grant = await cliJson('consent', 'grant', '--app', app.client_id, '--resource', NOTES, '--background', '--scope', 'notes:read');
    expect(grant).toMatchObject({ client_id: app.client_id, user_id: owner.id, resources: [NOTES], scopes: ['notes:read'], background: true });
    expect((await cli('consent', 'list')).stdout).toMatch(new RegExp(`${grant.id}.*\\tbackground`));

    const issued = await impersonate();
    expect(issued.status, issued.text).toBe(200);
    const claims = decodeJwt(issued.body.access_token);
    expect(claims).toMatchObject({ sub: owner.id, aud: NOTES, scope: 'notes:read', delegation_depth: 1, act: { sub: `client:${app.client_id}`, client_id: app.client_id } });
    // Over TCP, never.
    const overTcp = await postForm(`${serve.issuer}/oauth2/token`,
      { grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: NOTES }, { basic: [app.client_id, app.client_secret] });
    expect(overTcp.body.error).toBe('invalid_request');

    await cliJson('consent', 'revoke', grant.id);
    const introspected = await postForm(`${serve.issuer}/oauth2/token/introspect`, { token: issued.body.access_token }, { basic: [app.client_id, app.client_secret] });
    expect(introspected.body).toEqual({ active: false });
    expect((await impersonate()).body.error).toBe('access_denied');
  });

  it('app update --deny-impersonation turns it off again', async () => {
    await cliJson('consent', 'grant', '--app', app.client_id, '--resource', NOTES, '--background');
    expect((await impersonate()).status).toBe(200);
    expect(await cliJson('app', 'update', app.client_id, '--deny-impersonation')).toMatchObject({ allow_impersonation: false });
    expect((await impersonate()).body.error).toBe('unauthorized_client');
  });

  it('refuses contradictory or incomplete commands, naming the flag', async () => {
    const both = await cli('app', 'update', app.client_id, '--allow-impersonation', '--deny-impersonation');
    expect(both.code).toBe(2);
    const interactive = await cli('consent', 'grant', '--app', app.client_id, '--resource', NOTES);
    expect(interactive.code).toBe(2);
    expect(interactive.stderr).toMatch(/--background/);
    const badMode = await cli('app', 'update', app.client_id, '--consent', 'sometimes');
    expect(badMode.code).not.toBe(0);
    expect(badMode.stderr).toMatch(/--consent/);
    const notMine = await cli('consent', 'grant', '--app', app.client_id, '--resource', 'https://elsewhere.example.test/', '--background');
    expect(notMine.code).not.toBe(0);
  });
});
