// `latchkey policy` (issue 5 item 1), the built CLI against a real `latchkey serve`: list, add --file (a policy
// that fails to parse or validate exits non-zero and prints its line), validate, test (what-if), remove; and
// `app update --allow-impersonation` writes the permitting policy.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';

const NOTES = 'https://notes.example.test/api';

describe('latchkey policy', () => {
  let dataDir: string;
  let app: { client_id: string };
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir]);
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const file = (name: string, text: string): string => {
    const path = join(dataDir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-policy-'));
    await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    await cliJson('resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read');
    app = await cliJson('app', 'create', '--name', 'Indexer', '--kind', 'service', '--grant', 'token-exchange', '--resource', NOTES, '--consent', 'implicit');
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('add, list, test and remove a policy', async () => {
    const forbid = file('forbid.cedar', `// no autonomous access\nforbid (principal == Application::"${app.client_id}", action == Action::"autonomous", resource);\n`);
    expect(await cliJson('policy', 'validate', '--file', forbid)).toEqual({ valid: true, statements: 1 });
    const added = await cliJson<{ id: string }>('policy', 'add', '--file', forbid);
    expect(added.id).toMatch(/^pol_/);
    const listed = await cliJson('policy', 'list');
    expect(listed.defaults.map((policy: { id: string }) => policy.id)).toEqual(['default.dependencies', 'default.delegation_depth']);
    expect(listed.policies).toEqual([expect.objectContaining({ id: added.id })]);
    expect(await cliJson('policy', 'test', '--app', app.client_id, '--resource', NOTES, '--action', 'autonomous')).toEqual({ decision: 'deny', allowed: false, policies: [added.id] });
    expect(await cliJson('policy', 'test', '--app', app.client_id, '--resource', NOTES, '--action', 'delegation_chain')).toEqual({ decision: 'allow', allowed: true, policies: ['default.dependencies'] });
    const human = await cli('policy', 'test', '--app', app.client_id, '--resource', NOTES, '--action', 'autonomous');
    expect(human.stdout.trim()).toBe(`deny (${added.id})`);
    await cliJson('policy', 'remove', added.id);
    expect((await cliJson('policy', 'list')).policies).toEqual([]);
  });

  it('a policy that does not parse or validate exits non-zero, prints its line, and saves nothing', async () => {
    for (const [text, line] of [['permit (principal, action, resource);\nforbid (principal action, resource);', 2], ['\n\npermit (principal, action, resource) when { context.nope };', 3]] as const) {
      const bad = file('bad.cedar', text);
      for (const command of ['add', 'validate']) {
        const result = await cli('policy', command, '--file', bad);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`line ${line}: `);
      }
    }
    expect((await cliJson('policy', 'list')).policies).toEqual([]);
  });

  it('app update --allow-impersonation writes the permitting policy; --deny-impersonation removes it', async () => {
    await cliJson('app', 'update', app.client_id, '--allow-impersonation');
    const [permit] = (await cliJson('policy', 'list')).policies;
    expect(permit).toMatchObject({ client_id: app.client_id, text: `permit (principal == Application::"${app.client_id}", action == Action::"impersonation", resource);` });
    expect((await cliJson('policy', 'test', '--app', app.client_id, '--resource', NOTES, '--action', 'impersonation')).policies).toEqual([permit.id]);
    await cliJson('app', 'update', app.client_id, '--deny-impersonation');
    expect((await cliJson('policy', 'list')).policies).toEqual([]);
  });
});
