// The `latchkey approvals` commands (issue 5 item 2), the built CLI against a real `latchkey serve`: an agent
// asks through OpenID CIBA and polls while the user answers with `approvals list|approve|deny`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../support/broker.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';

const NOTES = 'https://notes.example.test/api';
const CIBA = 'urn:openid:params:grant-type:ciba';

describe('latchkey approvals', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let owner: { id: string };
  let app: { client_id: string; client_secret: string };
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir]);
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const ask = (message: string) => postForm(`${serve.issuer}/oauth2/bc-authorize`, { login_hint: 'ada@example.com', resource: NOTES, binding_message: message },
    { basic: [app.client_id, app.client_secret] });
  const poll = (authReqId: string) => postForm(`${serve.issuer}/oauth2/token`, { grant_type: CIBA, auth_req_id: authReqId }, { basic: [app.client_id, app.client_secret] });

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-approvals-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    owner = await cliJson('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    await cliJson('resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read');
    app = await cliJson('app', 'create', '--name', 'Night agent', '--kind', 'agent', '--grant', 'ciba', '--resource', NOTES);
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('approvals list shows what waits; approvals approve lets the polling agent have its token', async () => {
    expect((await cli('approvals', 'list')).stdout.trim()).toBe('No approvals waiting.');
    const asked = await ask('index my notes');
    expect(asked.status, asked.text).toBe(200);
    expect((await poll(asked.body.auth_req_id)).body.error).toBe('authorization_pending');

    const waiting = await cliJson<any[]>('approvals', 'list');
    expect(waiting).toEqual([expect.objectContaining({ client_id: app.client_id, application: 'Night agent', user_id: owner.id, resources: [NOTES], binding_message: 'index my notes' })]);
    const human = await cli('approvals', 'list');
    expect(human.stdout).toContain(`${waiting[0].id}\tNight agent (${app.client_id})\t${NOTES}\tnotes:read\t"index my notes"`);

    const approved = await cli('approvals', 'approve', waiting[0].id);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approved: ${waiting[0].id} (Night agent)`);
    // The agent waits its interval, then polls.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const tokens = await poll(asked.body.auth_req_id);
    expect(tokens.status, tokens.text).toBe(200);
    expect(decodeJwt(tokens.body.access_token)).toMatchObject({ sub: owner.id, aud: NOTES, client_id: app.client_id });
  });

  it('approvals deny makes the agent\'s next poll access_denied; an unknown id or a bad --remember exits non-zero', async () => {
    const asked = await ask('delete everything');
    const [waiting] = await cliJson<any[]>('approvals', 'list');
    const denied = await cliJson('approvals', 'deny', waiting.id);
    expect(denied).toMatchObject({ id: waiting.id, status: 'denied' });
    expect((await poll(asked.body.auth_req_id)).body.error).toBe('access_denied');

    const unknown = await cli('approvals', 'approve', 'apr_nope');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown approval/);
    const bad = await cli('approvals', 'approve', waiting.id, '--remember', 'soon');
    expect(bad.code).toBe(2);
  });
});
