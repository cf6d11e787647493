import { request as httpRequest, type RequestOptions } from 'node:http';
import { CliError } from './cli-error.js';
import { findRunningBroker } from './runtime.js';

/** How long the CLI waits for the broker's answer. */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * The admin API of the running broker, as the CLI sees it: over the local socket runtime.json names
 * (DESIGN.md §7). Only a runtime.json that names no socket (written by a broker that serves none) sends
 * the CLI to loopback HTTP. A socket that is named but cannot be reached is an error, not a reason to
 * try TCP: the admin token goes only where only this user can listen (a 0700 directory), and a port
 * left behind by a broker that died can be taken by any local process.
 */
export class AdminClient {
  private constructor(readonly issuer: string, private readonly socket: string | null, private readonly token: string) {}

  static forDataDir(dataDir: string): AdminClient {
    const { runtime, adminToken } = findRunningBroker(dataDir);
    return new AdminClient(runtime.issuer, runtime.socket ?? null, adminToken);
  }

  /** Where the requests go: the socket's path, or the issuer's URL. */
  get endpoint(): string {
    return this.socket ?? this.issuer;
  }

  async request<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const parsed = response.text ? safeJson(response.text) : undefined;
    if (!ok(response.status)) {
      const error = parsed as { error?: string; error_description?: string } | undefined;
      throw new CliError(error?.error_description ?? error?.error ?? `the broker answered ${response.status}`);
    }
    return parsed as T;
  }

  async text(path: string): Promise<string> {
    const response = await this.send('GET', path);
    if (!ok(response.status)) throw new CliError((safeJson(response.text) as { error_description?: string } | undefined)?.error_description ?? `the broker answered ${response.status}`);
    return response.text;
  }

  private send(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
    // Over the socket Node sends `Host: localhost`, which the socket does not check; over TCP the
    // issuer's own authority, which the perimeter requires.
    const target: RequestOptions = this.socket ? { socketPath: this.socket } : { host: new URL(this.issuer).hostname, port: new URL(this.issuer).port };
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ ...target, method, path: `/api${path}`, headers, timeout: ANSWER_TIMEOUT_MS }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
        response.once('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.once('error', (error) => reject(this.unreachable(error)));
      });
      outgoing.once('timeout', () => outgoing.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)));
      outgoing.once('error', (error) => reject(this.unreachable(error)));
      outgoing.end(payload);
    });
  }

  private unreachable(error: Error): CliError {
    return new CliError(`cannot reach the broker at ${this.endpoint}: ${error.message}`);
  }
}

const ok = (status: number): boolean => status >= 200 && status < 300;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
