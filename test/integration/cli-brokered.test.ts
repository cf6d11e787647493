// The `latchkey` command for brokered access (issue 5 item 4), the built CLI against a real `latchkey serve`
// and a real upstream (oidc-provider): provider create --client-secret-stdin, provider list, resource create
// --type brokered, provider connect (the URL is the last line), provider disconnect (revoked upstream), and
// the client secret and the upstream tokens in none of the CLI's outputs or the broker's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';
import { startUpstream, type Upstream } from '../support/upstream-provider.js';

const BROKERED = 'https://api.upstream.example.test/';

describe('latchkey provider', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let upstream: Upstream;
  let providerId: string;
  const outputs: string[] = [];
  const cli = async (args: string[], input?: string) => {
    const result = await latchkey([...args, '--data-dir', dataDir], input === undefined ? {} : { input });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const cliJson = <T = any>(args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-brokered-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    upstream = await startUpstream({ redirectUri: `${serve.issuer}/oauth2/providers/callback` });
    expect((await cli(['setup', '--name', 'Ada', '--email', 'ada@example.com'])).code).toBe(0);
  });
  afterAll(async () => {
    await stopAllChildren();
    await upstream?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('provider create reads the client secret from stdin and answers its id; the secret is shown nowhere', async () => {
    const created = await cli(['provider', 'create', '--name', 'Upstream', '--issuer', upstream.issuer, '--client-id', upstream.clientId,
      '--client-secret-stdin', '--scope', 'openid', '--scope', 'offline_access', '--json'], `${upstream.clientSecret}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ id: expect.stringMatching(/^prv_/), name: 'Upstream', has_client_secret: true, status: 'not_connected' });
    providerId = created.json().id;
    const listed = await cli(['provider', 'list', '--json']);
    expect(listed.json()).toEqual([expect.objectContaining({ id: providerId, issuer: upstream.issuer, scopes: ['openid', 'offline_access'], status: 'not_connected' })]);
    expect((await cli(['provider', 'list'])).stdout).toBe(`${providerId}\tUpstream\t${upstream.issuer}\tnot_connected\n`);
  });

  it('resource create --type brokered needs --provider; its --scope are the upstream scopes', async () => {
    const without = await cli(['resource', 'create', '--name', 'Upstream API', '--identifier', BROKERED, '--type', 'brokered']);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/--provider/);
    const created = await cli(['resource', 'create', '--name', 'Upstream API', '--identifier', BROKERED, '--type', 'brokered', '--provider', providerId, '--scope', 'api:read', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ credential_type: 'brokered', provider_id: providerId, upstream_scopes: ['api:read'], scopes: [] });
  });

  it('provider connect prints the URL to open as its last line; opening it connects the account', async () => {
    const connect = await cli(['provider', 'connect', providerId]);
    expect(connect.code, connect.stderr).toBe(0);
    const url = connect.stdout.trim().split('\n').at(-1)!;
    expect(new URL(url).origin).toBe(upstream.issuer);
    expect(new URL(url).searchParams.get('scope')).toBe('openid offline_access api:read');
    const back = await upstream.authorize(url);
    const page = await fetch(back, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('account is connected');
    expect(await cliJson(['provider', 'list'])).toEqual([expect.objectContaining({ id: providerId, status: 'connected' })]);
  });

  it('provider disconnect revokes upstream and forgets the account; a provider in use is not deleted', async () => {
    const disconnected = await cli(['provider', 'disconnect', providerId]);
    expect(disconnected.code, disconnected.stderr).toBe(0);
    expect(disconnected.stdout).toBe(`Disconnected: ${providerId} (Upstream)\n`);
    expect(await cliJson(['provider', 'list'])).toEqual([expect.objectContaining({ id: providerId, status: 'not_connected' })]);
    const audit = await cliJson<Array<{ event: string; detail: string }>>(['audit', 'list', '--event', 'provider.disconnected']);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ upstream_revocation: 'revoked' });
    const refused = await cli(['provider', 'delete', providerId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use/);
  });

  it('the client secret is in no output of the CLI, the broker or the audit export', async () => {
    const exported = await cli(['audit', 'export', '--format', 'jsonl']);
    for (const text of [...outputs, exported.stdout, serve.stdout, serve.stderr]) expect(text).not.toContain(upstream.clientSecret);
  });
});
