import { request, type RequestOptions } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatchkeyConfigurationError, LatchkeyUnreachableError } from './errors.js';

/**
 * Where the broker listens: its local socket (a Unix socket; a named pipe on Windows), or its loopback
 * HTTP issuer (`http://127.0.0.1:PORT`).
 */
export type BrokerEndpoint = { socket: string } | { issuer: string };

export interface RawAnswer {
  status: number;
  text: string;
}

/** How long a request may take before the client gives up. */
const ANSWER_TIMEOUT_MS = 30_000;

/** Latchkey listens on loopback only; a credential is never sent anywhere else. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Form POSTs to the broker with node:http, which (unlike fetch) speaks HTTP over a Unix socket. The
 * default agent keeps connections alive for agents that ask often, and does not keep the process up.
 */
export class BrokerTransport {
  private readonly target: RequestOptions;

  constructor(readonly endpoint: BrokerEndpoint, private readonly timeoutMs = ANSWER_TIMEOUT_MS) {
    if ('socket' in endpoint) {
      if (!endpoint.socket) throw new LatchkeyConfigurationError('the broker socket path is empty');
      // Over the socket Node sends `Host: localhost`, which the socket does not check.
      this.target = { socketPath: endpoint.socket };
    } else {
      let url: URL;
      try {
        url = new URL(endpoint.issuer);
      } catch {
        throw new LatchkeyConfigurationError('the broker issuer is not a URL');
      }
      if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
        throw new LatchkeyConfigurationError('the broker issuer must be http on loopback (127.0.0.1, [::1] or localhost)');
      }
      // The perimeter requires the issuer's own authority as Host, which node:http sends from host:port.
      this.target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, headers: { host: url.host } };
    }
  }

  /**
   * The endpoint a running broker names in DATA_DIR/runtime.json (DESIGN.md §7): its socket, or its
   * issuer only when it serves no socket. A named socket that cannot be reached is an error, never a
   * reason to try TCP: a secret goes only where only this user can listen.
   */
  static fromDataDir(dataDir: string, timeoutMs?: number): BrokerTransport {
    let runtime: { issuer?: unknown; socket?: unknown; pid?: unknown };
    try {
      runtime = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as typeof runtime;
    } catch {
      throw new LatchkeyConfigurationError(`no running broker for ${dataDir}: start one with \`latchkey serve\` (or \`npm start\`)`);
    }
    if (typeof runtime.pid === 'number' && !isAlive(runtime.pid)) {
      throw new LatchkeyConfigurationError(`no running broker for ${dataDir} (the one that wrote runtime.json has exited): start one with \`latchkey serve\``);
    }
    if (typeof runtime.socket === 'string' && runtime.socket) return new BrokerTransport({ socket: runtime.socket }, timeoutMs);
    if (typeof runtime.issuer === 'string') return new BrokerTransport({ issuer: runtime.issuer }, timeoutMs);
    throw new LatchkeyConfigurationError(`${join(dataDir, 'runtime.json')} names neither a socket nor an issuer`);
  }

  /** What the requests go to: the socket's path, or the issuer's URL. */
  get address(): string {
    return 'socket' in this.endpoint ? this.endpoint.socket : this.endpoint.issuer;
  }

  postForm(path: string, form: URLSearchParams, headers: Record<string, string> = {}): Promise<RawAnswer> {
    const body = form.toString();
    const allHeaders = {
      ...this.target.headers as Record<string, string> | undefined,
      ...headers,
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
    };
    return new Promise((resolve, reject) => {
      const outgoing = request({ ...this.target, method: 'POST', path, headers: allHeaders, timeout: this.timeoutMs }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
        response.once('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.once('error', (error) => reject(this.unreachable(error)));
      });
      outgoing.once('timeout', () => outgoing.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      outgoing.once('error', (error) => reject(this.unreachable(error)));
      outgoing.end(body);
    });
  }

  private unreachable(error: NodeJS.ErrnoException): LatchkeyUnreachableError {
    // The code alone (ECONNREFUSED, ENOENT…): Node's messages repeat the path, and nothing else is needed.
    return new LatchkeyUnreachableError(this.address, error.code ?? error.message.split('\n')[0]!);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
