import { createHash, randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * What one local-socket listener allows. Like Bitwarden desktop's Agent Access socket: few connections,
 * short timeouts. Keep-alive is kept (an agent asking for many tokens reuses its connection), and an
 * idle connection is cut so it does not hold one of the few slots.
 */
export interface LocalSocketLimits {
  /** Connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** A connection on which nothing moves for this long is closed (before, between and during requests). */
  idleTimeoutMs: number;
  /** The request's headers must all have arrived within this (a slow trickle does not reset it). */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this. */
  requestTimeoutMs: number;
}

export const DEFAULT_LOCAL_SOCKET_LIMITS: LocalSocketLimits = {
  maxConnections: 16,
  idleTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
};

/** Why the socket cannot be used; its message is one line, fit to print as it is. */
export class LocalSocketError extends Error {
  override readonly name = 'LocalSocketError';
}

/** sun_path is 108 bytes on Linux and 104 on macOS, each with its terminating NUL. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;

/**
 * Where the broker of a data dir listens by default: `DATA_DIR/run/latchkey.sock`; on Windows a named
 * pipe named for the user and the data dir (pipes live in their own namespace, not in a directory).
 */
export function defaultSocketPath(dataDir: string): string {
  if (process.platform === 'win32') {
    const user = userInfo().username.replace(/[^\w.-]/g, '_');
    const dir = createHash('sha256').update(dataDir.toLowerCase()).digest('hex').slice(0, 12);
    return `\\\\.\\pipe\\latchkey-${user}-${dir}`;
  }
  return join(dataDir, 'run', 'latchkey.sock');
}

/**
 * The local socket listener (DESIGN.md §6): the broker's HTTP application on a Unix domain socket in a
 * directory only this user can enter, the socket itself mode 0600. That directory and mode are the
 * whole access check: Node cannot read the peer's credentials (SO_PEERCRED) without a native addon, and
 * another OS user who cannot enter the directory cannot connect at all.
 */
export class LocalSocketServer {
  private server: Server | undefined;
  /**
   * The socket file we made: only that one is ever unlinked at close. Device and inode, and the change
   * time in nanoseconds, since a file system may give a freed inode number to the next file made.
   */
  private made: FileIdentity | undefined;

  constructor(
    readonly path: string,
    private readonly handler: (request: IncomingMessage, response: ServerResponse) => void,
    private readonly limits: LocalSocketLimits = DEFAULT_LOCAL_SOCKET_LIMITS,
  ) {}

  async listen(): Promise<void> {
    const server = createServer({
      // A browser cannot reach this socket, so `Host` carries no authority here and may be absent.
      requireHostHeader: false,
      headersTimeout: this.limits.headersTimeoutMs,
      requestTimeout: this.limits.requestTimeoutMs,
      // How often Node checks the two timeouts above; its default (30 s) would let them run long.
      connectionsCheckingInterval: Math.min(1_000, this.limits.headersTimeoutMs),
      maxHeaderSize: 16 * 1024,
    }, this.handler);
    server.maxConnections = this.limits.maxConnections;
    server.keepAliveTimeout = Math.min(5_000, this.limits.idleTimeoutMs);
    // No 'timeout' listener on the server: Node destroys a socket idle for this long.
    server.setTimeout(this.limits.idleTimeoutMs);
    if (process.platform === 'win32') await this.listenOnNamedPipe(server);
    else await this.listenOnUnixSocket(server);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // First the name, so that no new client finds it; then the listener and its connections.
    if (this.made) {
      // Someone may have replaced the file since (by hand, or another broker after ours was removed):
      // that one is not ours to unlink.
      if (sameFile(identify(this.path), this.made)) unlinkSync(this.path);
      this.made = undefined;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * Windows: a named pipe. This path cannot be tested on the machines the tests run on (Linux); it is
   * written to the same rules where they apply. A pipe has no file to go stale and no directory mode:
   * libuv opens the first instance exclusively (FILE_FLAG_FIRST_PIPE_INSTANCE), so a name already
   * served by a live process fails with EADDRINUSE, which is refused here, never taken over. The pipe
   * gets the default security descriptor (libuv offers no other), which lets other users of the machine
   * open it for reading; requests still need a client credential or the admin token.
   */
  private async listenOnNamedPipe(server: Server): Promise<void> {
    if (!/^\\\\[.?]\\pipe\\/i.test(this.path)) throw new LocalSocketError(`on Windows the socket must be a named pipe (\\\\.\\pipe\\NAME), not ${this.path}`);
    try {
      await listenOn(server, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LocalSocketError(`another process is serving the named pipe ${this.path}: is another broker running? (left alone)`);
      throw error;
    }
  }

  /**
   * A Unix domain socket, 0600 from its first instant, in a private directory, never taking the place of
   * a live socket or of anything that is not a socket.
   *
   * The mode: the umask is set to 0177 around `listen()` alone. For a path, Node binds synchronously
   * inside that call, so the socket file is created 0600 and no other JavaScript runs while the umask
   * is changed (it is process-wide: a file a libuv thread happened to create in that instant would be
   * stricter, never looser). Binding first and chmod-ing after would leave an instant at the umask's
   * mode; harmless inside a 0700 directory, but the directory check is one safeguard and this the other.
   *
   * The name: libuv unlinks the path a server was bound to when the server closes, whatever is at that
   * path by then. So the server is bound to a temporary name in the same directory, and the real name is
   * made a hard link to it (`link` fails if the name exists: a racing broker is never overwritten); the
   * temporary name is removed at once. At close, the real name is unlinked only if it is still our inode.
   */
  private async listenOnUnixSocket(server: Server): Promise<void> {
    const directory = dirname(this.path);
    const temporary = join(directory, `.lk-${randomBytes(6).toString('hex')}`);
    for (const candidate of [this.path, temporary]) {
      if (Buffer.byteLength(candidate) > MAX_SOCKET_PATH_BYTES) {
        throw new LocalSocketError(`the socket path ${candidate} is too long for a Unix socket (at most ${MAX_SOCKET_PATH_BYTES} bytes): choose a shorter one with --socket`);
      }
    }
    ensurePrivateDirectory(directory);
    await clearStaleSocket(this.path);

    const previousUmask = process.umask(0o177);
    let bound: Promise<void>;
    try {
      bound = listenOn(server, temporary);
    } finally {
      process.umask(previousUmask);
    }
    await bound;
    try {
      const made = lstatSync(temporary);
      const uid = process.getuid!();
      if (!made.isSocket() || made.uid !== uid || (made.mode & 0o177) !== 0) {
        throw new LocalSocketError(`the socket ${temporary} was not created private (mode ${octal(made.mode)}): refusing to serve on it`);
      }
      try {
        linkSync(temporary, this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new LocalSocketError(`${this.path} appeared while the broker was starting (another broker?): left alone`);
        throw error;
      }
      unlinkSync(temporary);
      this.made = identify(this.path) ?? undefined;
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
  }
}

/**
 * The socket's directory must be a real directory (not a symlink), ours, and closed to group and others:
 * it is the access check. Created 0700 when missing; an existing one is checked, never loosened or
 * silently tightened, so a misconfiguration is seen.
 */
function ensurePrivateDirectory(directory: string): void {
  if (!lstatOrNull(directory)) mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stats = lstatSync(directory);
  if (stats.isSymbolicLink()) throw new LocalSocketError(`the socket directory ${directory} is a symbolic link: refusing to use it`);
  if (!stats.isDirectory()) throw new LocalSocketError(`the socket directory ${directory} is not a directory`);
  const uid = process.getuid!();
  if (stats.uid !== uid) throw new LocalSocketError(`the socket directory ${directory} belongs to uid ${stats.uid}, not to you (uid ${uid}): refusing to use it`);
  if ((stats.mode & 0o077) !== 0) {
    throw new LocalSocketError(`the socket directory ${directory} is open to other users (mode ${octal(stats.mode)}): it must be 0700 (chmod 700 ${directory})`);
  }
}

/**
 * What may already be at the socket path: nothing; a live socket (refused, never unlinked); a stale one,
 * whose listener is gone (connect: ECONNREFUSED), unlinked; anything else (a regular file, a directory,
 * a symlink: lstat, so a link is seen as a link) refused and left as it is.
 */
async function clearStaleSocket(path: string): Promise<void> {
  const stats = lstatOrNull(path);
  if (!stats) return;
  if (!stats.isSocket()) throw new LocalSocketError(`${path} exists and is ${describeFile(stats)}, not a socket: refusing to replace it`);
  const probed = identify(path);
  const answer = await probe(path);
  if (answer === 'live') throw new LocalSocketError(`another process is listening on ${path}: is another broker running? (left alone)`);
  if (answer !== 'stale') throw new LocalSocketError(`cannot tell whether ${path} is in use (${answer}): left alone`);
  // Only the very file we probed: if it was swapped meanwhile, leave the new one.
  if (sameFile(identify(path), probed)) unlinkSync(path);
}

/** 'live' if something accepts a connection, 'stale' on ECONNREFUSED, else the error code. */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.setTimeout(1_000, () => { socket.destroy(); resolve('no answer within 1 s'); });
    socket.once('connect', () => { socket.destroy(); resolve('live'); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'stale' : (error.code ?? error.message)));
  });
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen(path, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

interface FileIdentity {
  dev: bigint;
  ino: bigint;
  ctimeNs: bigint;
}

/** A socket file's identity, or null when there is no socket at the path. */
function identify(path: string): FileIdentity | null {
  try {
    const stats = lstatSync(path, { bigint: true });
    return stats.isSocket() ? { dev: stats.dev, ino: stats.ino, ctimeNs: stats.ctimeNs } : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const sameFile = (a: FileIdentity | null, b: FileIdentity | null | undefined): boolean =>
  a !== null && b != null && a.dev === b.dev && a.ino === b.ino && a.ctimeNs === b.ctimeNs;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function describeFile(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFile()) return 'a regular file';
  return 'a special file';
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;
