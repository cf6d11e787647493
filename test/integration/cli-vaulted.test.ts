// The `latchkey` command for vaulted static credentials (issue 5 item 3), the built CLI against a real
// `latchkey serve`: resource create --type vaulted --secret-stdin, resource secret set, resource list, the
// release through client_credentials, and the secret in none of the CLI's outputs, the exports, or the
// broker's own stdout and stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../support/broker.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';

const WEATHER = 'https://weather.example.test/api';
const FIRST = 'wx_cli_first_9d8c7b6a5f4e3d2c1b0a';
const SECOND = '-----BEGIN KEY-----\nwx_cli_second_line_one\nwx_cli_second_line_two\n-----END KEY-----';
const SECRET_PIECES = [FIRST, 'wx_cli_second_line_one', 'wx_cli_second_line_two'];

describe('latchkey for vaulted resources', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let app: { client_id: string; client_secret: string };
  const cli = (args: string[], input?: string) => latchkey([...args, '--data-dir', dataDir], input === undefined ? {} : { input });
  const cliJson = <T = any>(args: string[], input?: string) => latchkeyJson<T>([...args, '--data-dir', dataDir], input === undefined ? {} : { input });
  const release = () => postForm(`${serve.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: WEATHER }, { basic: [app.client_id, app.client_secret] });
  const expectNowhere = (text: string) => { for (const piece of SECRET_PIECES) expect(text).not.toContain(piece); };

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-vaulted-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resource create --type vaulted needs --secret-stdin, and --secret-stdin needs --type vaulted', async () => {
    const without = await cli(['resource', 'create', '--name', 'Weather', '--identifier', WEATHER, '--type', 'vaulted']);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/--secret-stdin/);
    const stray = await cli(['resource', 'create', '--name', 'Weather', '--identifier', WEATHER, '--secret-stdin'], FIRST);
    expect(stray.code).toBe(2);
    expect((await cliJson<any[]>(['resource', 'list'])).length).toBe(0);
  });

  it('resource create --type vaulted --secret-stdin seals the secret read from stdin and shows only that there is one', async () => {
    const created = await cli(['resource', 'create', '--name', 'Weather', '--identifier', WEATHER, '--type', 'vaulted', '--secret-stdin', '--json'], `${FIRST}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ identifier: WEATHER, credential_type: 'vaulted', has_secret: true, secret_set_at: expect.any(String) });
    expectNowhere(created.stdout + created.stderr);
    const listed = await cli(['resource', 'list', '--json']);
    expect(listed.json()).toEqual([expect.objectContaining({ identifier: WEATHER, has_secret: true })]);
    expectNowhere(listed.stdout);
    const human = await cli(['resource', 'list']);
    expect(human.stdout).toBe(`${WEATHER}\tWeather\t\tvaulted (secret set)\n`);
  });

  it('an application that depends on it receives the secret through client_credentials as N_A', async () => {
    app = await cliJson(['app', 'create', '--name', 'Forecaster', '--kind', 'service', '--resource', WEATHER]);
    const answer = await release();
    expect(answer.body).toEqual({ access_token: FIRST, issued_token_type: 'urn:latchkey:params:oauth:token-type:static-secret', token_type: 'N_A' });
  });

  it('resource secret set --secret-stdin replaces it (a multi-line secret kept whole); the next release is the new one', async () => {
    const rotated = await cli(['resource', 'secret', 'set', '--identifier', WEATHER, '--secret-stdin', '--json'], `${SECOND}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.json()).toMatchObject({ identifier: WEATHER, has_secret: true });
    expectNowhere(rotated.stdout + rotated.stderr);
    expect((await release()).body.access_token).toBe(SECOND);
    const missing = await cli(['resource', 'secret', 'set', '--identifier', WEATHER]);
    expect(missing.code).toBe(2);
    const empty = await cli(['resource', 'secret', 'set', '--identifier', WEATHER, '--secret-stdin'], '');
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/no secret on stdin/);
  });

  it('the secret is in no audit listing, no export, and nothing the broker printed', async () => {
    const listed = await cli(['audit', 'list', '--json', '--limit', '1000']);
    expect(listed.stdout).toContain('secret.released');
    expect(listed.stdout).toContain('admin.resource_secret_replaced');
    expectNowhere(listed.stdout);
    for (const format of ['jsonl', 'csv']) {
      const exported = await cli(['audit', 'export', '--format', format]);
      expect(exported.code).toBe(0);
      expect(exported.stdout).toContain('secret.released');
      expectNowhere(exported.stdout);
    }
    expectNowhere(serve.stdout + serve.stderr);
  });
});
