// The agent helpers end to end: the built `latchkey token` and `latchkey exec` against a real
// `latchkey serve`, authenticating as an application from the environment, over the local socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, requireFreshBuild, ServeProcess, startLatchkey, stopAllChildren, type CliResult } from '../support/cli.js';
import { basicCredentials, RecordingTokenEndpoint } from '../support/recording-token-endpoint.js';

const NOTES = 'https://notes.example.test/api';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SUBSTITUTE_USER = 'urn:latchkey:params:oauth:token-type:substitute-user';

/** A refusal the way a user should see it: non-zero exit, nothing on stdout, one line on stderr. */
function expectOneLineError(result: CliResult, problem: RegExp): void {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^latchkey: /);
  expect(lines[0]).toMatch(problem);
}

/**
 * What the child of `exec` reports about itself, without ever printing the credential: the token's
 * claims once verified against the broker's JWKS, which LATCHKEY_* variables it sees, and whether the
 * credential appears in its own argv or in latchkey's (its parent's), read from /proc.
 */
const REPORTING_CHILD = `
const { readFileSync } = require('node:fs');
const variable = process.env.CREDENTIAL_VARIABLE || 'LATCHKEY_ACCESS_TOKEN';
const token = process.env[variable];
const argvOf = (pid) => readFileSync('/proc/' + pid + '/cmdline', 'utf8');
import('jose').then(async ({ createRemoteJWKSet, jwtVerify }) => {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(process.env.ISSUER + '/.well-known/jwks.json')), { issuer: process.env.ISSUER });
  console.log(JSON.stringify({
    aud: payload.aud, scope: payload.scope, client_id: payload.client_id,
    sees: Object.keys(process.env).filter((name) => name.startsWith('LATCHKEY_')).sort(),
    inOwnArgv: argvOf(process.pid).includes(token), inLatchkeyArgv: argvOf(process.ppid).includes(token),
  }));
});`;


beforeAll(() => requireFreshBuild());
afterAll(() => stopAllChildren());

describe('latchkey token and latchkey exec against a running `latchkey serve`', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let app: { client_id: string; client_secret: string };
  let apiKey: string;
  let withSecret: NodeJS.ProcessEnv;
  const jwks = () => createRemoteJWKSet(new URL(`${serve.issuer}/.well-known/jwks.json`));
  const run = (args: string[], env: NodeJS.ProcessEnv = withSecret) => latchkey([...args, '--data-dir', dataDir], { env });
  /** exec's own flags must come before `--`: the data dir goes first. */
  const exec = (flags: string[], command: string[], env: NodeJS.ProcessEnv = withSecret) => latchkey(['exec', '--data-dir', dataDir, ...flags, '--', ...command], { env: { ISSUER: serve.issuer, ...env } });
  const noSecretIn = (result: CliResult): void => {
    for (const secret of [app.client_secret, apiKey]) expect(result.stdout + result.stderr).not.toContain(secret);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-agent-'));
    serve = await ServeProcess.start(dataDir, { env: { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE } });
    const admin = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
    await admin('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    await admin('resource', 'create', '--name', 'Notes API', '--identifier', NOTES, '--scope', 'notes:read', '--scope', 'notes:write');
    app = await admin('app', 'create', '--name', 'Indexer', '--kind', 'service', '--resource', NOTES, '--grant', 'client_credentials', '--grant', 'token-exchange');
    apiKey = (await admin<{ api_key: string }>('apikey', 'create', '--app', app.client_id)).api_key;
    withSecret = { LATCHKEY_CLIENT_ID: app.client_id, LATCHKEY_CLIENT_SECRET: app.client_secret };
  });
  afterAll(async () => {
    await stopAllChildren();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('token prints only the access token, which verifies against the JWKS with the resource as aud and the scope asked', async () => {
    const result = await run(['token', '--resource', NOTES, '--scope', 'notes:read']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(result.stdout.trim(), jwks(), { issuer: serve.issuer, audience: NOTES });
    expect(payload).toMatchObject({ client_id: app.client_id, scope: 'notes:read', trust_level: 'shared_secret' });
    noSecretIn(result);
  });

  it('token with LATCHKEY_API_KEY uses the api-key grant', async () => {
    const result = await run(['token', '--resource', NOTES], { LATCHKEY_API_KEY: apiKey });
    expect(result.code, result.stderr).toBe(0);
    const { payload } = await jwtVerify(result.stdout.trim(), jwks(), { issuer: serve.issuer, audience: NOTES });
    expect(payload).toMatchObject({ client_id: app.client_id, trust_level: 'api_key', grant_type: 'urn:latchkey:params:oauth:grant-type:api-key' });
    noSecretIn(result);
  });

  it('token --json prints the token response', async () => {
    const result = await run(['token', '--resource', NOTES, '--scope', 'notes:write', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const response = result.json();
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'notes:write' });
    expect(decodeJwt(response.access_token).aud).toBe(NOTES);
  });

  it('exec hands the child a working credential in LATCHKEY_ACCESS_TOKEN, never in an argv or in latchkey\'s output, and withholds the secret', async () => {
    const result = await exec(['--resource', NOTES, '--scope', 'notes:read'], [process.execPath, '-e', REPORTING_CHILD]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      aud: NOTES, scope: 'notes:read', client_id: app.client_id,
      // The id stays (it is no secret); the secret does not.
      sees: ['LATCHKEY_ACCESS_TOKEN', 'LATCHKEY_CLIENT_ID'],
      inOwnArgv: false, inLatchkeyArgv: false,
    });
    expect(result.stdout).not.toMatch(/eyJ/);
    noSecretIn(result);
  });

  it('exec --env NAME chooses the variable; with an API key, LATCHKEY_API_KEY is withheld from the child', async () => {
    const result = await exec(['--resource', NOTES, '--env', 'NOTES_TOKEN'], [process.execPath, '-e', REPORTING_CHILD], { LATCHKEY_API_KEY: apiKey, CREDENTIAL_VARIABLE: 'NOTES_TOKEN' });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ aud: NOTES, sees: [], inOwnArgv: false, inLatchkeyArgv: false });
    noSecretIn(result);
  });

  it('exec passes the child\'s exit code through: 0, 3, and 128 + the signal when a signal ends it', async () => {
    expect((await exec(['--resource', NOTES], [process.execPath, '-e', 'process.exit(0)'])).code).toBe(0);
    expect((await exec(['--resource', NOTES], [process.execPath, '-e', 'process.exit(3)'])).code).toBe(3);
    expect((await exec(['--resource', NOTES], [process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'])).code).toBe(128 + 9);
    // The child's own flags after `--` are its own, --help included.
    const passed = await exec(['--resource', NOTES], [process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '--', '--help', '--resource', 'x']);
    expect(JSON.parse(passed.stdout)).toEqual(['--help', '--resource', 'x']);
  });

  it('exec forwards SIGTERM and SIGINT to the child and exits as the child does', async () => {
    for (const [signal, code] of [['SIGTERM', 7], ['SIGINT', 8]] as const) {
      const running = startLatchkey(['exec', '--data-dir', dataDir, '--resource', NOTES, '--', process.execPath, '-e',
        `process.on('${signal}', () => { console.log('child got ${signal}'); process.exit(${code}); }); console.log('ready'); setInterval(() => {}, 1000);`], { env: withSecret });
      await running.waitForOutput(/ready\n/);
      running.child.kill(signal);
      expect(await running.exited).toEqual({ code, signal: null });
      expect(running.stdout()).toBe(`ready\nchild got ${signal}\n`);
    }
  });

  it('bad input: one line naming the problem, a non-zero exit, and never the secret', async () => {
    const cases: [CliResult, RegExp][] = [
      [await run(['token', '--resource', NOTES], {}), /no client credentials: set LATCHKEY_CLIENT_ID and LATCHKEY_CLIENT_SECRET, or LATCHKEY_API_KEY/],
      [await run(['token', '--resource', NOTES], { LATCHKEY_CLIENT_ID: app.client_id }), /LATCHKEY_CLIENT_SECRET is not/],
      [await run(['token', '--resource', NOTES], { LATCHKEY_CLIENT_ID: app.client_id, LATCHKEY_CLIENT_SECRET: `${app.client_secret}x` }), /the broker refused: invalid_client/],
      [await run(['token', '--resource', NOTES], { LATCHKEY_API_KEY: `${apiKey}x` }), /the broker refused: invalid_grant/],
      [await run(['token', '--resource', 'https://unknown.example.test/']), /the broker refused: invalid_target/],
      [await run(['token']), /--resource is required/],
      [await run(['token', '--resource', NOTES, '--bogus']), /Unknown option '--bogus'/],
      [await latchkey(['token', '--resource', NOTES, '--data-dir', join(dataDir, 'nowhere')], { env: withSecret }), /no running broker for .*nowhere/],
      [await exec(['--resource', NOTES, '--env', 'lower'], ['true']), /--env must be an environment variable name/],
      [await exec(['--resource', NOTES, '--env', '1ABC'], ['true']), /--env must be an environment variable name/],
      [await exec(['--resource', NOTES], []), /no command after --/],
      [await run(['exec', '--resource', NOTES, 'true']), /put the command after --/],
      [await exec(['--resource', NOTES], ['/no/such/command']), /command not found: \/no\/such\/command/],
      [await exec(['--resource', 'https://unknown.example.test/'], ['true'], { LATCHKEY_CLIENT_ID: app.client_id, LATCHKEY_CLIENT_SECRET: `${app.client_secret}x` }), /the broker refused: invalid_client/],
    ];
    for (const [result, problem] of cases) {
      expectOneLineError(result, problem);
      noSecretIn(result);
      expect(result.stderr).not.toContain(`${app.client_secret}x`);
    }
    expect(cases.at(-2)![0].code).toBe(127);
  });

  it('token --as-user asks for impersonation; this broker refuses it, in one line with a non-zero exit', async () => {
    const result = await run(['token', '--resource', NOTES, '--as-user', 'ada@example.com']);
    expectOneLineError(result, /^latchkey: the broker refused to act as ada@example\.com: \w+/);
    noSecretIn(result);
    const withKey = await run(['token', '--resource', NOTES, '--as-user', 'ada@example.com'], { LATCHKEY_API_KEY: apiKey });
    expectOneLineError(withKey, /impersonation needs the client's id and secret/);
  });

  it('token --as-user gets a token for the user once the admin permits it and the user set up background access', async () => {
    const admin = (...args: string[]) => latchkeyJson([...args, '--data-dir', dataDir]);
    await admin('app', 'update', app.client_id, '--allow-impersonation', '--consent', 'implicit');
    await admin('consent', 'grant', '--app', app.client_id, '--resource', NOTES, '--background');
    const result = await run(['token', '--resource', NOTES, '--scope', 'notes:read', '--as-user', 'ada@example.com']);
    expect(result.code, result.stderr).toBe(0);
    const { payload } = await jwtVerify(result.stdout.trim(), jwks(), { issuer: serve.issuer, audience: NOTES });
    expect(payload.sub).toMatch(/^usr_/);
    expect(payload).toMatchObject({ scope: 'notes:read', act: { client_id: app.client_id } });
  });
});

describe('latchkey token --as-user on the wire', () => {
  let endpoint: RecordingTokenEndpoint;
  beforeAll(async () => { endpoint = await RecordingTokenEndpoint.start(); });
  afterAll(() => endpoint.close());

  it('sends a substitute-user token exchange over the socket runtime.json names, the client authenticated with Basic', async () => {
    endpoint.answer = () => ({ status: 400, body: { error: 'invalid_request', error_description: 'impersonation (substitute-user subject tokens) is not available' } });
    const result = await latchkey(['token', '--data-dir', endpoint.dataDir, '--resource', NOTES, '--scope', 'notes:read', '--as-user', 'ada@example.com'],
      { env: { LATCHKEY_CLIENT_ID: 'app_agent', LATCHKEY_CLIENT_SECRET: 'agent secret+/' } });
    expectOneLineError(result, /^latchkey: the broker refused to act as ada@example\.com: invalid_request: impersonation \(substitute-user subject tokens\) is not available$/);
    expect(endpoint.requests).toHaveLength(1);
    const [sent] = endpoint.requests;
    expect(sent).toMatchObject({ method: 'POST', path: '/oauth2/token' });
    expect(sent!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(basicCredentials(sent!.headers.authorization)).toEqual(['app_agent', 'agent secret+/']);
    expect(Object.fromEntries(sent!.form)).toEqual({ grant_type: TOKEN_EXCHANGE, subject_token: 'ada@example.com', subject_token_type: SUBSTITUTE_USER, resource: NOTES, scope: 'notes:read' });
    expect(result.stderr).not.toContain('agent secret');
  });
});
