// The local socket (issue 4 item 3, DESIGN.md §6): the broker's HTTP application on a Unix domain socket
// in a directory only this user can enter, mode 0600, never taking the place of a live socket or of
// anything that is not a socket. Real brokers, real sockets, real files.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalSocketError } from '../../main/core/transport/local-socket.js';
import { ClientCredentialsGrant } from '../../main/core/sts/grants/client-credentials.js';
import { basicAuth, count, postForm, registerService, removeDataDir, startBroker, type Service, type TestBroker } from '../support/broker.js';
import { overSocket, postFormOverSocket, rawConnection, requestOnConnection, whenClosed } from '../support/local-socket.js';
import { expectRefused } from '../support/refusals.js';

const mode = (path: string): number => lstatSync(path).mode & 0o777;
const isRoot = process.getuid?.() === 0;
const NOBODY = 65_534;

/** A socket file nobody listens on any more: what a broker killed with SIGKILL leaves behind. */
async function makeStaleSocket(path: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(temporary, resolve));
  linkSync(temporary, path);
  // Closing unlinks the name the server was bound to (libuv does), leaving the linked name stale.
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Connects to a socket as another OS user (`nobody`); resolves with 'connected' or the error code. */
function connectAs(uid: number, path: string): Promise<string> {
  const script = `const s = require('node:net').connect(${JSON.stringify(path)});
    s.on('connect', () => { console.log('connected'); s.destroy(); });
    s.on('error', (e) => console.log(e.code));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    child.once('error', reject);
    child.once('close', () => resolve(out.trim()));
  });
}

describe('the local socket', () => {
  let test: TestBroker;
  let service: Service;
  let socket: string;
  const tokenRequest = () => ({ grant_type: 'client_credentials', resource: service.resource, scope: 'read' });

  beforeAll(async () => {
    test = await startBroker({ socket: true });
    socket = test.socket!;
    service = await registerService(test);
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });
  afterEach(() => { vi.restoreAllMocks(); });

  it('is DATA_DIR/run/latchkey.sock by default, a socket of mode 0600 in a directory of mode 0700, right after start', () => {
    expect(socket).toBe(join(test.dataDir, 'run', 'latchkey.sock'));
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(mode(socket)).toBe(0o600);
    expect(lstatSync(socket).uid).toBe(process.getuid!());
    expect(mode(join(test.dataDir, 'run'))).toBe(0o700);
    expect(test.broker.socketPath).toBe(socket);
  });

  it('the token endpoint answers over the socket whatever the Host header says, or without one', async () => {
    for (const host of ['localhost', 'evil.example', `127.0.0.1:1`, null]) {
      const result = await postFormOverSocket(socket, '/oauth2/token', tokenRequest(), { authorization: basicAuth(service.clientId, service.clientSecret) }, host);
      expect(result.status, `Host ${host}`).toBe(200);
      const claims = decodeJwt(result.body.access_token);
      expect(claims).toMatchObject({ iss: test.issuer, aud: service.resource, client_id: service.clientId });
      expect(count(test, 'audit_log', "event = 'token.issued' AND jti = ?", claims.jti)).toBe(1);
    }
  });

  it('over the socket the client still authenticates: a wrong secret is invalid_client and issues nothing', async () => {
    await expectRefused(test, () => postFormOverSocket(socket, '/oauth2/token', tokenRequest(), { authorization: basicAuth(service.clientId, 'not-the-secret') }),
      { status: 401, error: 'invalid_client', secrets: ['not-the-secret'] });
    await expectRefused(test, () => postFormOverSocket(socket, '/oauth2/token', tokenRequest()), { status: 401, error: 'invalid_client' });
  });

  it('the grant handler is told which listener the request came in on', async () => {
    const handle = vi.spyOn(ClientCredentialsGrant.prototype, 'handle');
    expect((await postFormOverSocket(socket, '/oauth2/token', tokenRequest(), { authorization: basicAuth(service.clientId, service.clientSecret) })).status).toBe(200);
    expect((await postForm(`${test.issuer}/oauth2/token`, tokenRequest(), { basic: [service.clientId, service.clientSecret] })).status).toBe(200);
    expect(handle.mock.calls.map(([context]) => context.transport)).toEqual(['socket', 'tcp']);
  });

  it('a request carrying an Origin is refused (403) on every route, and issues nothing', async () => {
    const origin = { origin: test.issuer };
    await expectRefused(test, () => postFormOverSocket(socket, '/oauth2/token', tokenRequest(), { ...origin, authorization: basicAuth(service.clientId, service.clientSecret) }),
      { status: 403, error: 'forbidden' });
    for (const [method, path, headers] of [
      ['GET', '/.well-known/openid-configuration', origin],
      ['GET', '/.well-known/jwks.json', { origin: 'https://evil.example' }],
      ['GET', '/oauth2/authorize?client_id=x', origin],
      ['GET', '/api/status', { ...origin, authorization: `Bearer ${test.broker.adminToken}` }],
      ['GET', '/ui/', { origin: 'null' }],
      ['GET', '/no/such/route', origin],
    ] as const) {
      const result = await overSocket(socket, { method, path, headers });
      expect({ path, status: result.status }).toEqual({ path, status: 403 });
    }
    // Without Origin, the same requests are served.
    expect((await overSocket(socket, { path: '/.well-known/openid-configuration' })).body.issuer).toBe(test.issuer);
  });

  it('the admin API over the socket still needs the admin bearer token', async () => {
    expect((await overSocket(socket, { path: '/api/status' })).status).toBe(401);
    expect((await overSocket(socket, { path: '/api/status', headers: { authorization: `Bearer ${'x'.repeat(43)}` } })).status).toBe(401);
    const status = await overSocket(socket, { path: '/api/status', headers: { authorization: `Bearer ${test.broker.adminToken}` } });
    expect(status.status).toBe(200);
    expect(status.body.issuer).toBe(test.issuer);
  });

  it('on TCP nothing changed: a foreign Host is still refused', async () => {
    const { rawRequest } = await import('../support/refusals.js');
    expect((await rawRequest(test.issuer, { method: 'GET', path: '/.well-known/jwks.json', headers: { host: 'localhost' } })).status).toBe(403);
  });

  it('a live socket at the path: a second broker refuses to start, leaves it alone, and the first keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    try {
      const second = startBroker({ dataDir, socket });
      await expect(second).rejects.toThrow(LocalSocketError);
      await expect(second).rejects.toThrow(`another process is listening on ${socket}: is another broker running? (left alone)`);
    } finally {
      removeDataDir(dataDir);
    }
    expect(lstatSync(socket).isSocket()).toBe(true);
    const result = await postFormOverSocket(socket, '/oauth2/token', tokenRequest(), { authorization: basicAuth(service.clientId, service.clientSecret) });
    expect(result.status).toBe(200);
  });

  it('another OS user cannot connect to the socket (EACCES), even were its directory opened', async (context) => {
    if (!isRoot) {
      const why = 'connecting as another OS user needs root to spawn a process as nobody';
      console.log(`skipped: ${why}`);
      context.skip(true, why);
    }
    expect(await connectAs(NOBODY, socket)).toBe('EACCES');
    // The socket's own mode (0600) refuses too: open every directory on the way, then try again.
    const run = join(test.dataDir, 'run');
    chmodSync(test.dataDir, 0o711);
    chmodSync(run, 0o711);
    try {
      expect(await connectAs(NOBODY, socket)).toBe('EACCES');
    } finally {
      chmodSync(run, 0o700);
      chmodSync(test.dataDir, 0o700);
    }
  });
});

describe('what may already be at the socket path', () => {
  let scratch: string;

  beforeAll(() => { scratch = mkdtempSync(join(tmpdir(), 'latchkey-sock-')); });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A private directory of its own for each case. */
  const privateDir = (name: string): string => {
    const dir = join(scratch, name);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };

  it('a stale socket (its listener gone) is replaced, and the broker serves on the new one', async () => {
    const path = join(privateDir('stale'), 'latchkey.sock');
    await makeStaleSocket(path);
    await expect(rawConnection(path)).rejects.toThrow(/ECONNREFUSED/);
    const test = await startBroker({ socket: path });
    try {
      expect(mode(path)).toBe(0o600);
      expect((await overSocket(path, { path: '/.well-known/jwks.json' })).status).toBe(200);
    } finally {
      await test.close();
      removeDataDir(test.dataDir);
    }
    expect(existsSync(path)).toBe(false);
  });

  it('a regular file, a directory or a symlink at the path is refused and left untouched', async () => {
    const dir = privateDir('occupied');
    const file = join(dir, 'file.sock');
    writeFileSync(file, 'not a socket', { mode: 0o600 });
    const directory = join(dir, 'dir.sock');
    mkdirSync(directory, { mode: 0o700 });
    writeFileSync(join(directory, 'inside'), 'keep me');
    // A symlink, even to a stale socket, is a symlink (lstat): never followed, never removed.
    const stale = join(dir, 'stale.sock');
    await makeStaleSocket(stale);
    const link = join(dir, 'link.sock');
    symlinkSync(stale, link);

    for (const [path, what] of [[file, 'a regular file'], [directory, 'a directory'], [link, 'a symbolic link']] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
      await expect(startBroker({ dataDir, socket: path })).rejects.toThrow(new RegExp(`${path} exists and is ${what}, not a socket: refusing to replace it`));
      removeDataDir(dataDir);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a socket');
    expect(readFileSync(join(directory, 'inside'), 'utf8')).toBe('keep me');
    expect(readlinkSync(link)).toBe(stale);
    expect(lstatSync(stale).isSocket()).toBe(true);
  });

  it('a socket directory open to the group or to others is refused, and left as it is', async () => {
    for (const loose of [0o750, 0o705, 0o777]) {
      const dir = privateDir(`loose-${loose.toString(8)}`);
      chmodSync(dir, loose);
      await expect(startBroker({ socket: join(dir, 'latchkey.sock') })).rejects.toThrow(/is open to other users \(mode 0\d+\): it must be 0700/);
      expect(mode(dir)).toBe(loose);
      expect(existsSync(join(dir, 'latchkey.sock'))).toBe(false);
    }
    // /tmp itself (1777) is no place for it either.
    await expect(startBroker({ socket: join(tmpdir(), `latchkey-${process.pid}.sock`) })).rejects.toThrow(/open to other users|not to you/);
  });

  it('a socket directory that is a symlink, or that belongs to another user, is refused', async (context) => {
    const real = privateDir('real');
    const linked = join(scratch, 'linked');
    symlinkSync(real, linked);
    await expect(startBroker({ socket: join(linked, 'latchkey.sock') })).rejects.toThrow(/is a symbolic link: refusing to use it/);
    if (!isRoot) {
      const why = 'the other-owner half: giving a directory to another user needs root';
      console.log(`skipped: ${why}`);
      context.skip(true, why);
    }
    const theirs = privateDir('theirs');
    chownSync(theirs, NOBODY, NOBODY);
    await expect(startBroker({ socket: join(theirs, 'latchkey.sock') })).rejects.toThrow(new RegExp(`belongs to uid ${NOBODY}, not to you`));
  });

  it('a default socket directory that does not exist yet is made 0700', async () => {
    const test = await startBroker({ socket: true });
    try {
      expect(statSync(join(test.dataDir, 'run')).mode & 0o777).toBe(0o700);
    } finally {
      await test.close();
      removeDataDir(test.dataDir);
    }
  });

  it('closing removes the socket, but not one that has taken its place since', async () => {
    const dir = privateDir('replaced');
    const path = join(dir, 'latchkey.sock');
    const test = await startBroker({ socket: path });
    // Someone removes ours and another socket appears at the path: not ours to unlink at close.
    rmSync(path);
    await makeStaleSocket(path);
    const theirs = lstatSync(path, { bigint: true });
    await test.close();
    const after = lstatSync(path, { bigint: true });
    expect([after.ino, after.ctimeNs]).toEqual([theirs.ino, theirs.ctimeNs]);
    removeDataDir(test.dataDir);
  });
});

describe('the socket\'s limits', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker({ socket: true, localSocketLimits: { maxConnections: 4, idleTimeoutMs: 400, headersTimeoutMs: 2_000, requestTimeoutMs: 2_000 } });
  });
  afterAll(async () => {
    await test.close();
    removeDataDir(test.dataDir);
  });

  it('beyond the connection cap, a new connection is closed at once while the others are served', async () => {
    const open = await Promise.all(Array.from({ length: 4 }, () => rawConnection(test.socket!)));
    try {
      // Each is accepted and kept alive by a first request.
      expect(await Promise.all(open.map((connection) => requestOnConnection(connection, '/.well-known/jwks.json')))).toEqual([200, 200, 200, 200]);
      const extra = await rawConnection(test.socket!);
      extra.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await whenClosed(extra, 1_000)).toBe('');
      expect(await Promise.all(open.map((connection) => requestOnConnection(connection, '/.well-known/jwks.json')))).toEqual([200, 200, 200, 200]);
    } finally {
      for (const connection of open) connection.destroy();
    }
    // Once they are gone, there is room again.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await overSocket(test.socket!, { path: '/.well-known/jwks.json' })).status).toBe(200);
  });

  it('an idle connection is closed after the idle timeout', async () => {
    const silent = await rawConnection(test.socket!);
    const started = Date.now();
    expect(await whenClosed(silent, 3_000)).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('headers trickled in slowly are cut off by the headers timeout', async () => {
    const slow = await rawConnection(test.socket!);
    // A byte every 100 ms keeps the connection from being idle, never finishing the headers.
    const trickle = setInterval(() => { if (!slow.destroyed) slow.write('X'); }, 100);
    slow.write('GET /.well-known/jwks.json HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    try {
      const started = Date.now();
      const answer = await whenClosed(slow, 6_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    } finally {
      clearInterval(trickle);
    }
  });
});
