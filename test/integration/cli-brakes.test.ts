// The user's brakes from the command line (issue 6), the built CLI against a real `latchkey serve`:
// `latchkey agents pause|resume` and `latchkey vault lock|unlock`, each visible at once to an agent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../support/broker.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, stopAllChildren } from '../support/cli.js';

const NOTES = 'https://notes.example.test/api';

describe('latchkey agents pause|resume, vault lock|unlock', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let app: { client_id: string; client_secret: string };
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir], { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir], { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
  const token = () => postForm(`${serve.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [app.client_id, app.client_secret] });

  beforeAll(async () => {
    requireFreshBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-brakes-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    await cliJson('resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read');
    app = await cliJson('app', 'create', '--name', 'Indexer', '--kind', 'service', '--resource', NOTES);
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('agents pause refuses every agent until agents resume', async () => {
    expect((await token()).status).toBe(200);
    expect((await cli('agents', 'pause')).stdout).toMatch(/^Agents paused/);
    expect(await cliJson('agents', 'pause')).toEqual({ paused: true });
    expect(await token()).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable', error_description: 'agents are paused by the user' } });
    expect(await cliJson('agents', 'resume')).toEqual({ paused: false });
    expect((await token()).status).toBe(200);
  });

  it('vault lock stops issuance; vault unlock (the passphrase from the environment) brings it back', async () => {
    expect(await cliJson('vault', 'lock')).toMatchObject({ state: 'locked', backend: 'passphrase' });
    expect(await token()).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    expect(await cliJson('vault', 'unlock')).toMatchObject({ state: 'unlocked' });
    expect((await token()).status).toBe(200);
  });
});
