// The `latchkey` command end to end: the built CLI (`node bin/latchkey.js`) against a real
// `latchkey serve` child process, as DESIGN.md §7 and the README describe them.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../support/broker.js';
import { CLI_PASSPHRASE, latchkey, latchkeyJson, readRuntime, REPO_ROOT, requireFreshBuild, rowCounts, ServeProcess, stopAllChildren, type CliResult } from '../support/cli.js';

const NOTES = 'https://notes.example.test/api';
const MAIL = 'https://mail.example.test/api';
const WITH_PASSPHRASE = { LATCHKEY_VAULT_PASSPHRASE: CLI_PASSPHRASE };

const mode = (file: string): number => statSync(file).mode & 0o777;

/** A refusal the way a user should see it: non-zero exit, nothing on stdout, one line on stderr. */
function expectOneLineError(result: CliResult, problem: RegExp): void {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^latchkey: /);
  expect(lines[0]).toMatch(problem);
}

beforeAll(() => requireFreshBuild());
afterAll(() => stopAllChildren());

describe('latchkey against a running `latchkey serve`', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let scratch: string;
  const cli = (...args: string[]) => latchkey([...args, '--data-dir', dataDir]);
  const cliJson = <T = any>(...args: string[]) => latchkeyJson<T>([...args, '--data-dir', dataDir]);
  const token = (params: Record<string, string>, basic?: [string, string]) => postForm(`${serve.issuer}/oauth2/token`, params, basic ? { basic } : {});

  // What the tests below register, in order.
  let service: { client_id: string; client_secret: string };
  let apiKey: { id: string; api_key: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
    scratch = mkdtempSync(join(tmpdir(), 'latchkey-cli-files-'));
    serve = await ServeProcess.start(dataDir, { env: WITH_PASSPHRASE });
  });
  afterAll(async () => {
    await stopAllChildren();
    for (const dir of [dataDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serve writes runtime.json (0600) with its issuer and pid once listening, and admin.token (0600)', async () => {
    const runtime = readRuntime(dataDir)!;
    expect(runtime.pid).toBe(serve.child.pid);
    expect(runtime.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(runtime.socket).toBe(join(dataDir, 'run', 'latchkey.sock'));
    expect(lstatSync(runtime.socket!).isSocket()).toBe(true);
    expect(mode(runtime.socket!)).toBe(0o600);
    expect(mode(join(dataDir, 'run'))).toBe(0o700);
    expect(mode(join(dataDir, 'runtime.json'))).toBe(0o600);
    expect(mode(join(dataDir, 'admin.token'))).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    const metadata: any = await (await fetch(`${runtime.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(metadata.issuer).toBe(runtime.issuer);
    const printed = await serve.waitForOutput(/vault: +\w+/);
    expect(printed).toContain(`Latchkey is listening at ${runtime.issuer}\n`);
    expect(printed).toContain(`  socket:   ${runtime.socket}\n`);
    expect(printed).toMatch(/vault: +unlocked \(passphrase\)/);
  });

  it('a second serve on the same data dir refuses with one line, and the first keeps running', async () => {
    const second = await latchkey(['serve', '--data-dir', dataDir, '--port', '0'], { env: WITH_PASSPHRASE });
    expectOneLineError(second, new RegExp(`already running for ${dataDir} \\(pid ${serve.child.pid}`));
    expect(readRuntime(dataDir)!.pid).toBe(serve.child.pid);
    expect((await cli('app', 'list')).code).toBe(0);
  });

  it('serve refuses a port that is in use, naming it', async () => {
    const port = new URL(serve.issuer).port;
    const otherDir = join(scratch, 'other-broker');
    const result = await latchkey(['serve', '--data-dir', otherDir, '--port', port], { env: WITH_PASSPHRASE });
    expectOneLineError(result, new RegExp(`port ${port} is in use`));
    expect(existsSync(join(otherDir, 'runtime.json'))).toBe(false);
  });

  it('setup records the owner', async () => {
    const human = await cli('setup', '--name', 'Ada Lovelace', '--email', 'ada@example.com');
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('Owner created: Ada Lovelace <ada@example.com>\n');
    const again = await cliJson('setup', '--name', 'Ada King', '--email', 'ada@example.com');
    expect(again).toMatchObject({ name: 'Ada King', email: 'ada@example.com', created: false });
  });

  it('resource create takes repeated --scope flags; resource list shows it', async () => {
    const created = await cliJson('resource', 'create', '--name', 'Notes API', '--identifier', NOTES, '--scope', 'notes:read', '--scope', 'notes:write');
    expect(created).toMatchObject({ identifier: NOTES, name: 'Notes API', scopes: ['notes:read', 'notes:write'], credential_type: 'token' });
    const listed = await cliJson<any[]>('resource', 'list');
    expect(listed.map((resource) => resource.identifier)).toEqual([NOTES]);
    const human = await cli('resource', 'list');
    expect(human.stdout).toBe(`${NOTES}\tNotes API\tnotes:read notes:write\n`);
  });

  it('app create registers a service whose secret (shown once) gets a token', async () => {
    service = await cliJson('app', 'create', '--name', 'Indexer', '--kind', 'service', '--resource', NOTES, '--scope', 'notes:read');
    expect(service.client_id).toMatch(/^app_/);
    expect(service.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(service).toMatchObject({ identity_type: 'service', auth_method: 'client_secret_basic', grant_types: ['client_credentials'], resources: [NOTES], scopes: ['notes:read'] });
    const issued = await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret]);
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('notes:read');
  });

  it('app create --auth private_key_jwt --jwks FILE gives no secret; repeated --grant adds grants; the key signs in', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'signer-1', alg: 'ES256', use: 'sig' };
    const jwksFile = join(scratch, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    const signer = await cliJson('app', 'create', '--name', 'Signer', '--kind', 'service', '--auth', 'private_key_jwt', '--jwks', jwksFile,
      '--grant', 'client_credentials', '--grant', 'jwt-bearer', '--resource', NOTES);
    expect(signer.client_secret).toBeUndefined();
    expect(signer).toMatchObject({ auth_method: 'private_key_jwt', has_jwks: true, grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'] });

    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'signer-1' })
      .setIssuer(signer.client_id).setSubject(signer.client_id).setAudience(`${serve.issuer}/oauth2/token`)
      .setJti(`cli-test-${Date.now()}`).setIssuedAt().setExpirationTime('2m')
      .sign(privateKey);
    const issued = await token({
      grant_type: 'client_credentials', resource: NOTES,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(issued.status, issued.text).toBe(200);
  });

  it('app create --auth none registers a public client, with no secret', async () => {
    const result = await cli('app', 'create', '--name', 'Public', '--auth', 'none');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Application created: Public\n {2}client_id: +app_\S+\n$/);
    const [publicApp] = (await cliJson<any[]>('app', 'list')).filter((app) => app.name === 'Public');
    expect(publicApp).toMatchObject({ client_type: 'public', auth_method: 'none' });
    expect(publicApp.grant_types).not.toContain('client_credentials');
  });

  it('app list shows every application and never a secret', async () => {
    const listed = await cliJson<any[]>('app', 'list');
    expect(listed.map((app) => app.name)).toEqual(['Indexer', 'Signer', 'Public']);
    expect(JSON.stringify(listed)).not.toContain(service.client_secret);
    const human = await cli('app', 'list');
    expect(human.stdout).toContain(`${service.client_id}\tIndexer\tservice\tenabled`);
    expect(human.stdout).not.toContain(service.client_secret);
  });

  it('app create --grant token-exchange --max-delegation-depth N registers an application that may exchange tokens', async () => {
    const server = await cliJson('app', 'create', '--name', 'Chain server', '--kind', 'mcp_server', '--grant', 'token-exchange', '--max-delegation-depth', '2', '--resource', NOTES);
    expect(server).toMatchObject({ grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'], max_delegation_depth: 2 });
    expect((await cli('app', 'delete', server.client_id)).code).toBe(0);
  });

  it('app disable makes the token endpoint refuse the client (401 invalid_client); app enable lets it back', async () => {
    expect((await cliJson('app', 'disable', service.client_id)).enabled).toBe(false);
    const refused = await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret]);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await cliJson('app', 'enable', service.client_id)).enabled).toBe(true);
    expect((await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret])).status).toBe(200);
  });

  it('apikey create prints an lk_sk_ key that gets a token; after apikey revoke it is refused', async () => {
    apiKey = await cliJson('apikey', 'create', '--app', service.client_id);
    expect(apiKey.api_key).toMatch(/^lk_sk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey.id).toMatch(/^key_/);
    expect((await token({ grant_type: 'api_key', api_key: apiKey.api_key, resource: NOTES })).status).toBe(200);
    const listed = await cliJson<any[]>('apikey', 'list', '--app', service.client_id);
    expect(listed).toEqual([expect.objectContaining({ id: apiKey.id, revoked_at: null })]);
    expect(JSON.stringify(listed)).not.toContain(apiKey.api_key);

    expect(await cliJson('apikey', 'revoke', apiKey.id)).toMatchObject({ id: apiKey.id, revoked: true });
    const refused = await token({ grant_type: 'api_key', api_key: apiKey.api_key, resource: NOTES });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('keys rotate signs new tokens with a new key and keeps the old one in the JWKS', async () => {
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
    const before = await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret]);
    const rotated = await cliJson<{ kid: string; retired: string }>('keys', 'rotate');
    expect(rotated.retired).toBe(kidOf(before.body.access_token));
    const after = await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret]);
    expect(kidOf(after.body.access_token)).toBe(rotated.kid);
    const jwks: any = await (await fetch(`${serve.issuer}/.well-known/jwks.json`)).json();
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual(expect.arrayContaining([rotated.kid, rotated.retired]));
  });

  it('app update --remove-resource, --remove-grant and --scope change what app create set; a removed resource gets invalid_target', async () => {
    await cliJson('resource', 'create', '--name', 'Mail API', '--identifier', MAIL, '--scope', 'mail:read', '--scope', 'mail:send');
    const mailer = await cliJson('app', 'create', '--name', 'Mailer', '--kind', 'service', '--grant', 'client_credentials', '--grant', 'api_key', '--resource', NOTES, '--resource', MAIL);
    const credentials: [string, string] = [mailer.client_id, mailer.client_secret];
    expect((await token({ grant_type: 'client_credentials', resource: NOTES }, credentials)).status).toBe(200);

    const updated = await cliJson('app', 'update', mailer.client_id, '--remove-resource', NOTES, '--remove-grant', 'api_key', '--scope', 'mail:read');
    expect(updated).toMatchObject({ resources: [MAIL], grant_types: ['client_credentials'], scopes: ['mail:read'],
      changes: { resources_removed: [NOTES], grant_types_removed: ['urn:latchkey:params:oauth:grant-type:api-key'], scopes: { from: null, to: ['mail:read'] } } });
    const refused = await token({ grant_type: 'client_credentials', resource: NOTES }, credentials);
    expect(refused.body.error).toBe('invalid_target');
    expect((await token({ grant_type: 'client_credentials', resource: MAIL }, credentials)).body.scope).toBe('mail:read');
    const [audited] = await cliJson<any[]>('audit', 'list', '--app', mailer.client_id, '--event', 'admin.application_updated');
    expect(JSON.parse(audited.detail)).toMatchObject({ changes: { resources_removed: [NOTES] }, access_tokens_revoked: 1 });

    const human = await cli('app', 'update', mailer.client_id, '--any-scope');
    expect(human.stdout).toBe(`Application updated: ${mailer.client_id} (scopes)\n`);
    const unknownScope = await cli('app', 'update', mailer.client_id, '--scope', 'notes:read');
    expectOneLineError(unknownScope, /scope notes:read is not a scope of the application's resources/);
    expect((await cli('app', 'delete', mailer.client_id)).code).toBe(0);
  });

  describe('bad input: one line naming the problem, a non-zero exit, and nothing written', () => {
    let privateJwks: string;
    beforeAll(async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      privateJwks = join(scratch, 'private-jwks.json');
      writeFileSync(privateJwks, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    });

    const cases: Array<[string, () => string[], RegExp]> = [
      ['an unknown --resource', () => ['app', 'create', '--name', 'Ghost', '--kind', 'service', '--resource', 'https://nowhere.example.test/'], /unknown resource: https:\/\/nowhere\.example\.test\//],
      ['a --resource that is not a URI (naming which)', () => ['app', 'create', '--name', 'Ghost', '--resource', NOTES, '--resource', 'notes'], /--resource "notes": must be an absolute URI/],
      ['no --name', () => ['app', 'create', '--kind', 'service'], /--name is required/],
      ['an unknown --kind', () => ['app', 'create', '--name', 'Robot', '--kind', 'robot'], /--kind: .*"agent".*"service"/],
      ['an unknown flag', () => ['app', 'create', '--name', 'X', '--frobnicate'], /Unknown option '--frobnicate'/],
      ['an unknown --grant', () => ['app', 'create', '--name', 'X', '--grant', 'password'], /unknown grant type: password/],
      ['private_key_jwt without --jwks', () => ['app', 'create', '--name', 'X', '--auth', 'private_key_jwt'], /private_key_jwt needs a JWKS/],
      ['a --jwks file that is not there', () => ['app', 'create', '--name', 'X', '--auth', 'private_key_jwt', '--jwks', join(scratch, 'nope.json')], /cannot read --jwks file/],
      ['a --jwks file holding a private key', () => ['app', 'create', '--name', 'X', '--auth', 'private_key_jwt', '--jwks', privateJwks], /--jwks .*private key material/],
      ['a public client with an autonomous grant', () => ['app', 'create', '--name', 'X', '--auth', 'none', '--grant', 'client_credentials'], /public client/],
      ['a non-absolute --identifier', () => ['resource', 'create', '--name', 'Relative', '--identifier', 'notes/api'], /--identifier: must be an absolute URI/],
      ['a resource without --name', () => ['resource', 'create', '--identifier', 'https://unnamed.example.test/'], /--name is required/],
      ['a resource that exists already', () => ['resource', 'create', '--name', 'Again', '--identifier', NOTES], /exists already/],
      ['a bad --scope', () => ['resource', 'create', '--name', 'S', '--identifier', 'https://s.example.test/', '--scope', 'a b'], /--scope "a b": not a valid scope token/],
      ['a --lifetime that is no number', () => ['resource', 'create', '--name', 'L', '--identifier', 'https://l.example.test/', '--lifetime', 'soon'], /--lifetime must be a whole number/],
      ['a --lifetime out of range', () => ['resource', 'create', '--name', 'L', '--identifier', 'https://l.example.test/', '--lifetime', '5'], /--lifetime: .*30/],
      ['setup without --email', () => ['setup', '--name', 'Eve'], /--email is required/],
      ['setup with a bad --email', () => ['setup', '--name', 'Eve', '--email', 'not-an-address'], /--email: /],
      ['an API key for an unknown app', () => ['apikey', 'create', '--app', 'app_nope'], /unknown application: app_nope/],
      ['apikey create without --app', () => ['apikey', 'create'], /--app is required/],
      ['apikey revoke without KEY_ID', () => ['apikey', 'revoke'], /KEY_ID is required/],
      ['apikey revoke of an unknown key', () => ['apikey', 'revoke', 'key_nope'], /unknown API key: key_nope/],
      ['app disable of an unknown app', () => ['app', 'disable', 'app_nope'], /unknown application: app_nope/],
      ['an extra argument', () => ['app', 'disable', 'app_a', 'app_b'], /unexpected argument: app_b/],
      ['audit export in an unknown --format', () => ['audit', 'export', '--format', 'xml'], /--format must be jsonl or csv/],
      ['audit export to an unwritable --out', () => ['audit', 'export', '--format', 'csv', '--out', join(scratch, 'no-dir', 'audit.csv')], /cannot write --out file .*ENOENT/],
      ['audit list with an unknown --decision', () => ['audit', 'list', '--decision', 'maybe'], /--decision: .*"allow"/],
      ['audit list with a --since that is no date', () => ['audit', 'list', '--since', 'last tuesday'], /--since must be a date and time \(ISO 8601\)/],
      ['audit export with an unknown --decision', () => ['audit', 'export', '--format', 'jsonl', '--decision', 'maybe'], /--decision: .*"allow"/],
      ['app update removing an unknown --remove-resource', () => ['app', 'update', service.client_id, '--remove-resource', 'https://nowhere.example.test/'], /unknown resource: https:\/\/nowhere\.example\.test\//],
      ['app update with --scope and --any-scope', () => ['app', 'update', service.client_id, '--scope', 'notes:read', '--any-scope'], /give --scope or --any-scope, not both/],
      ['an unknown command', () => ['frobnicate'], /unknown command: frobnicate \(try latchkey --help\)/],
      ['an unknown subcommand', () => ['app', 'frobnicate'], /unknown command: app frobnicate/],
      ['serve with a bad --port', () => ['serve', '--port', 'http'], /--port must be a number from 0 to 65535/],
    ];


    it.each(cases)('%s', async (_name, args, problem) => {
      const before = rowCounts(dataDir);
      expectOneLineError(await cli(...args()), problem);
      expect(rowCounts(dataDir)).toEqual(before);
    });
  });

  it('audit list shows what happened; export (jsonl, csv) holds no secret; verify checks the chain', async () => {
    const events = (await cliJson<any[]>('audit', 'list', '--limit', '10000')).map((row) => row.event);
    expect(events).toEqual(expect.arrayContaining(['admin.setup', 'admin.resource_created', 'admin.application_created', 'admin.application_disabled',
      'admin.api_key_created', 'admin.api_key_revoked', 'admin.keys_rotated', 'token.issued', 'token.refused']));
    const refusals = await cliJson<any[]>('audit', 'list', '--decision', 'deny');
    expect(refusals.map((row) => row.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/application is disabled/)]));
    expect(refusals.every((row) => row.decision === 'deny')).toBe(true);
    const issuedToService = await cliJson<any[]>('audit', 'list', '--app', service.client_id, '--event', 'token.issued');
    expect(issuedToService.length).toBeGreaterThan(0);
    expect(issuedToService.every((row) => row.client_id === service.client_id && row.event === 'token.issued')).toBe(true);
    // Narrowed by resource and subject, and by a time window around what was issued.
    const first = issuedToService[issuedToService.length - 1];
    const sameTarget = await cliJson<any[]>('audit', 'list', '--resource', first.resource, '--user', first.subject, '--event', 'token.issued');
    expect(sameTarget.map((row) => row.seq)).toContain(first.seq);
    expect(sameTarget.every((row) => row.resource === first.resource && row.subject === first.subject)).toBe(true);
    const at = new Date(first.at).toISOString();
    expect((await cliJson<any[]>('audit', 'list', '--app', service.client_id, '--since', at, '--until', new Date(first.at + 1).toISOString())).map((row) => row.seq)).toContain(first.seq);
    expect((await cliJson<any[]>('audit', 'list', '--app', service.client_id, '--until', at)).map((row) => row.seq)).not.toContain(first.seq);

    const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const exported: Record<string, string> = {};
    for (const format of ['jsonl', 'csv']) {
      const file = join(scratch, `audit.${format}`);
      const written = await cli('audit', 'export', '--format', format, '--out', file);
      expect(written.code, written.stderr).toBe(0);
      expect(written.stdout).toBe(`Wrote ${statSync(file).size} bytes to ${file}\n`);
      expect(mode(file)).toBe(0o600);
      exported[format] = readFileSync(file, 'utf8');
      for (const secret of [service.client_secret, apiKey.api_key, apiKey.api_key.slice('lk_sk_'.length), adminToken, CLI_PASSPHRASE]) {
        expect(exported[format]).not.toContain(secret);
      }
      // Without --out the export goes to stdout, for a pipe.
      expect((await cli('audit', 'export', '--format', format)).stdout).toBe(exported[format]);
    }
    const records = exported.jsonl!.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records.map((record) => record.event)).toEqual(expect.arrayContaining(['admin.api_key_created', 'token.issued', 'token.refused']));
    const csv = exported.csv!.trimEnd().split('\n');
    expect(csv[0]).toMatch(/^seq,at,event,decision,/);
    expect(csv).toHaveLength(records.length + 1);

    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^The audit chain is intact \(\d+ rows\)\.\n$/);
  });

  it('audit export takes the filters audit list takes, and exports every row they match', async () => {
    const listed = await cliJson<any[]>('audit', 'list', '--app', service.client_id, '--decision', 'allow', '--limit', '10000');
    expect(listed.length).toBeGreaterThan(1);
    const exported = await cli('audit', 'export', '--format', 'jsonl', '--app', service.client_id, '--decision', 'allow');
    expect(exported.code, exported.stderr).toBe(0);
    const records = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    // Oldest first, every matching row, nothing else.
    expect(records.map((record) => record.seq)).toEqual(listed.map((row) => row.seq).reverse());
    const since = new Date(listed[0].at).toISOString();
    const latest = await cli('audit', 'export', '--format', 'csv', '--app', service.client_id, '--decision', 'allow', '--since', since);
    expect(latest.stdout.trimEnd().split('\n').slice(1).map((line) => Number(line.split(',')[0]))).toEqual(listed.filter((row) => row.at >= listed[0].at).map((row) => row.seq).reverse());
  });

  it('admin commands talk to the broker over the socket runtime.json names, never falling back to TCP', async () => {
    const file = join(dataDir, 'runtime.json');
    const real = readFileSync(file, 'utf8');
    const runtime = JSON.parse(real);
    const rewrite = (changes: object) => writeFileSync(file, JSON.stringify({ ...runtime, ...changes }), { mode: 0o600 });
    try {
      // The loopback port runtime.json names is closed: the command works all the same, over the socket.
      rewrite({ issuer: 'http://127.0.0.1:9' });
      expect((await cliJson<any[]>('app', 'list')).map((app) => app.name)).toContain('Indexer');
      // A socket named but unreachable is an error naming it; the (working) TCP listener is not tried.
      const missing = join(scratch, 'no-such.sock');
      rewrite({ socket: missing });
      expectOneLineError(await cli('app', 'list'), new RegExp(`cannot reach the broker at ${missing}: .*ENOENT`));
      // Only a runtime.json that names no socket sends the CLI to loopback HTTP.
      rewrite({ socket: null });
      expect((await cliJson<any[]>('app', 'list')).map((app) => app.name)).toContain('Indexer');
    } finally {
      writeFileSync(file, real, { mode: 0o600 });
    }
  });

  it('SIGTERM makes serve exit 0 and remove runtime.json and its socket; admin commands then say no broker is running', async () => {
    const pid = serve.child.pid!;
    const socket = serve.runtime!.socket!;
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'admin.token'))).toBe(false);
    expectOneLineError(await cli('app', 'list'), new RegExp(`no running broker for ${dataDir}: start one with \`latchkey serve\``));

    // A runtime.json left by a broker that died without cleaning up is not mistaken for a live one.
    writeFileSync(join(dataDir, 'runtime.json'), JSON.stringify({ issuer: 'http://127.0.0.1:9', pid, socket: null, started_at: new Date().toISOString() }), { mode: 0o600 });
    expectOneLineError(await cli('resource', 'list'), /no running broker for /);
    expectOneLineError(await latchkey(['app', 'list', '--data-dir', join(scratch, 'never-served')]), /no running broker for /);
  });

  it('state survives a restart: directory, secrets, revocations and the audit chain', async () => {
    serve = await ServeProcess.start(dataDir, { env: WITH_PASSPHRASE });
    expect((await cliJson<any[]>('resource', 'list')).map((resource) => resource.identifier)).toEqual([NOTES, MAIL]);
    expect((await cliJson<any[]>('app', 'list')).map((app) => app.name)).toEqual(['Indexer', 'Signer', 'Public']);
    expect((await token({ grant_type: 'client_credentials', resource: NOTES }, [service.client_id, service.client_secret])).status).toBe(200);
    expect((await token({ grant_type: 'api_key', api_key: apiKey.api_key, resource: NOTES })).status).toBe(400);
    expect((await cli('audit', 'verify')).code).toBe(0);
    expect(await serve.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});

describe('latchkey serve --socket PATH', () => {
  let scratch: string;
  beforeAll(() => { scratch = mkdtempSync(join(tmpdir(), 'latchkey-cli-socket-')); });
  afterAll(async () => {
    await stopAllChildren();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('serves the socket at PATH, names it in runtime.json, and admin commands use it', async () => {
    const dataDir = join(scratch, 'data');
    mkdirSync(join(scratch, 'sockets'), { mode: 0o700 });
    const socket = join(scratch, 'sockets', 'agent.sock');
    const serve = await ServeProcess.start(dataDir, { env: WITH_PASSPHRASE, args: ['--socket', socket] });
    expect(serve.runtime!.socket).toBe(socket);
    expect(mode(socket)).toBe(0o600);
    expect(existsSync(join(dataDir, 'run', 'latchkey.sock'))).toBe(false);
    expect((await latchkey(['app', 'list', '--data-dir', dataDir])).code).toBe(0);
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(existsSync(socket)).toBe(false);
  });

  it('refuses, with one line, a path that holds a regular file, and leaves it alone', async () => {
    const dataDir = join(scratch, 'occupied');
    mkdirSync(join(scratch, 'files'), { mode: 0o700 });
    const file = join(scratch, 'files', 'latchkey.sock');
    writeFileSync(file, 'mine');
    const result = await latchkey(['serve', '--data-dir', dataDir, '--port', '0', '--socket', file], { env: WITH_PASSPHRASE });
    expectOneLineError(result, new RegExp(`${file} exists and is a regular file, not a socket: refusing to replace it`));
    expect(readFileSync(file, 'utf8')).toBe('mine');
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
  });

  it('refuses a socket directory that other users can enter', async () => {
    const open = join(scratch, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    const result = await latchkey(['serve', '--data-dir', join(scratch, 'open-data'), '--port', '0', '--socket', join(open, 'latchkey.sock')], { env: WITH_PASSPHRASE });
    expectOneLineError(result, /is open to other users \(mode 0755\): it must be 0700/);
  });
});

describe('a machine without a keychain and without LATCHKEY_VAULT_PASSPHRASE', () => {
  // The Secret Service is reached over D-Bus: a bus address that leads nowhere makes the keychain probe fail.
  const NO_KEYCHAIN = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/latchkey-test-no-bus' };
  const PASSPHRASE = 'a passphrase typed on stdin';
  let dataDir: string;
  const dataDirs: string[] = [];

  afterAll(async () => {
    await stopAllChildren();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], input?: string) => latchkey([...args, '--data-dir', dataDir], input === undefined ? {} : { input });

  async function registerNotes(): Promise<{ client_id: string; client_secret: string }> {
    await latchkeyJson(['resource', 'create', '--name', 'Notes', '--identifier', NOTES, '--scope', 'notes:read', '--data-dir', dataDir]);
    return latchkeyJson(['app', 'create', '--name', 'Indexer', '--kind', 'service', '--resource', NOTES, '--data-dir', dataDir]);
  }

  it('npm start runs the headless broker, says why and where the UI is, starts locked, and `npx latchkey vault unlock` opens it', async (context) => {
    const lock = join(REPO_ROOT, 'package-lock.json');
    const installed = join(REPO_ROOT, 'node_modules', '.package-lock.json');
    // start.sh would run `npm ci` here, replacing node_modules under the running tests.
    context.skip(!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs, 'node_modules is older than package-lock.json: run `bash scripts/bootstrap.sh` first');
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-locked-'));
    dataDirs.push(dataDir);

    const broker = await ServeProcess.start(dataDir, { command: ['bash', join(REPO_ROOT, 'scripts', 'start.sh')], env: NO_KEYCHAIN });
    const issuer = broker.issuer;
    const printed = await broker.waitForOutput(/unlock: .*\n/);
    // The electron package is installed for its types; its binary cannot be downloaded here, and start says so.
    expect(printed).toMatch(/Electron is not available \(the electron package has no binary: its download was skipped or failed \(run `npx install-electron` where the internet is reachable\)\): running the headless broker instead\./);
    expect(printed).not.toContain('Downloading Electron binary');
    expect(printed).toContain(`Latchkey is listening at ${issuer}\n`);
    expect(printed).toContain('  mode:     headless broker (the UI runs in your browser)\n');
    expect(printed).toContain(`  UI:       ${issuer}/ui/\n`);
    // A fresh install has no owner: the link it prints is a first-run link, good once.
    const link = /sign in: {2}open this one-time link to set Latchkey up \(it works once, until [^;]+; a new one: npx latchkey login-url --data-dir \S+\)\n +(http:\/\/127\.0\.0\.1:\d+\/ui\/login\?token=[A-Za-z0-9_-]{43})\n/.exec(printed);
    expect(link?.[1]?.startsWith(`${issuer}/ui/login?token=`)).toBe(true);
    expect((await fetch(link![1]!, { redirect: 'manual' })).status).toBe(303);
    expect((await fetch(link![1]!, { redirect: 'manual' })).status).toBe(400);
    expect(printed).toMatch(/vault: +uninitialized\n/);
    expect(printed).toMatch(/no OS keychain is reachable .*run `latchkey vault unlock`.*LATCHKEY_VAULT_PASSPHRASE/);
    expect(printed).toContain(`  unlock:   npx latchkey vault unlock --data-dir ${dataDir}   (in another terminal; it asks for the passphrase)\n`);
    // Said once, on stdout: not repeated as a warning on stderr.
    expect(broker.stderr).not.toContain('no OS keychain is reachable');
    const ui = await fetch(`${issuer}/ui/`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await ui.text()).toContain('<div id="root"></div>');

    const status = await latchkeyJson(['vault', 'status', '--data-dir', dataDir]);
    expect(status).toMatchObject({ state: 'uninitialized', backend: null });
    const app = await registerNotes();
    const locked = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [app.client_id, app.client_secret] });
    expect(locked.status).toBe(503);
    expect(locked.body.error).toBe('temporarily_unavailable');

    const unlock = await latchkey(['vault', 'unlock', '--data-dir', dataDir], { command: ['npx', '--offline', 'latchkey'], input: `${PASSPHRASE}\n` });
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout).toBe('Vault unlocked.\n');
    expect(await latchkeyJson(['vault', 'status', '--data-dir', dataDir])).toMatchObject({ state: 'unlocked', backend: 'passphrase' });
    const issued = await postForm(`${issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [app.client_id, app.client_secret] });
    expect(issued.status, issued.text).toBe(200);

    expect(await broker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(readRuntime(dataDir)).toBeNull();
  }, 60_000);

  it('after a restart the passphrase vault waits for its passphrase: a wrong one is refused, the right one opens it', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-locked-'));
    dataDirs.push(dataDir);
    const first = await ServeProcess.start(dataDir, { env: NO_KEYCHAIN });
    await registerNotes();
    expect((await cli(['vault', 'unlock'], `${PASSPHRASE}\n`)).code).toBe(0);
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    const broker = await ServeProcess.start(dataDir, { env: NO_KEYCHAIN });
    const printed = await broker.waitForOutput(/vault: .*\n.*\n/);
    expect(printed).toMatch(/vault: +locked \(passphrase\)\n/);
    expect(printed).toMatch(/protected by a passphrase and none was given.*latchkey vault unlock/);

    expectOneLineError(await cli(['vault', 'unlock'], 'not the passphrase\n'), /passphrase/);
    expect(await latchkeyJson(['vault', 'status', '--data-dir', dataDir])).toMatchObject({ state: 'locked', backend: 'passphrase' });
    expectOneLineError(await cli(['vault', 'unlock'], ''), /no passphrase on stdin/);

    const unlocked = await cli(['vault', 'unlock'], `${PASSPHRASE}\n`);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    // Unlocking an open vault asks nothing and changes nothing.
    expect((await cli(['vault', 'unlock'], 'not the passphrase\n')).stdout).toBe('Vault unlocked.\n');
    const app = await latchkeyJson(['app', 'create', '--name', 'Second', '--kind', 'service', '--resource', NOTES, '--data-dir', dataDir]);
    const issued = await postForm(`${broker.issuer}/oauth2/token`, { grant_type: 'client_credentials', resource: NOTES }, { basic: [app.client_id, app.client_secret] });
    expect(issued.status, issued.text).toBe(200);
    expect(await broker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe('npx latchkey', () => {
  it('runs from the repository root (npx resolves the package\'s own bin)', async () => {
    const help = await latchkey(['--help'], { command: ['npx', '--offline', 'latchkey'] });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage:\n {2}latchkey serve /);
    expect(help.stdout).toContain('latchkey app create --name NAME');
  });

  it('prints one command\'s usage with --help', async () => {
    const help = await latchkey(['apikey', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe('Usage: latchkey apikey create --app CLIENT_ID [--json]\n');
  });
});
