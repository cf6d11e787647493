import { request as httpRequest, type RequestOptions } from 'node:http';
import { OWNER_PRESENCE_REQUIRED, PRESENCE_HEADER, type PresenceProof } from '../../shared/admin-api.js';
import { CliError } from './cli-error.js';
import { readFromTerminal, NoTerminalError } from './prompt.js';
import { findRunningBroker } from './runtime.js';

/** How long the CLI waits for the broker's answer. */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * The admin API of the running broker, as the CLI sees it: over the local socket runtime.json names
 * (DESIGN.md §7). Only a runtime.json that names no socket (written by a broker that serves none) sends
 * the CLI to loopback HTTP. A socket that is named but cannot be reached is an error, not a reason to
 * try TCP: the admin token goes only where only this user can listen (a 0700 directory), and a port
 * left behind by a broker that died can be taken by any local process.
 *
 * Owner presence (issue 12 §1, DESIGN.md §9): a loosening call the broker answers 403
 * `owner_presence_required` is asked again once, after the owner has typed the owner passphrase on the
 * controlling terminal. The presence token lives in this object only, for the one command that made it.
 */
export class AdminClient {
  private presenceToken: string | null = null;

  private constructor(readonly issuer: string, private readonly socket: string | null, private readonly token: string) {}

  static forDataDir(dataDir: string): AdminClient {
    const { runtime, adminToken } = findRunningBroker(dataDir);
    return new AdminClient(runtime.issuer, runtime.socket ?? null, adminToken);
  }

  /** Where the requests go: the socket's path, or the issuer's URL. */
  get endpoint(): string {
    return this.socket ?? this.issuer;
  }

  /** Where the owner can do what the CLI cannot without a terminal. */
  get uiUrl(): string {
    return `${this.issuer.replace(/\/$/, '')}/ui/`;
  }

  async request<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await this.sendAsOwner(method, path, body);
    if (!ok(response.status)) throw refusal(response);
    return (response.text ? safeJson(response.text) : undefined) as T;
  }

  async text(path: string): Promise<string> {
    const response = await this.sendAsOwner('GET', path);
    if (!ok(response.status)) throw refusal(response);
    return response.text;
  }

  /**
   * The owner proves presence with the owner passphrase: typed on the terminal now, or already typed by a
   * command that asked for it first (`owner passphrase` asks for the current one itself).
   */
  async provePresence(typed?: string): Promise<void> {
    let passphrase = typed;
    if (passphrase === undefined) {
      try {
        passphrase = await readFromTerminal('Owner passphrase (Latchkey asks because this gives agents more power): ');
      } catch (error) {
        if (!(error instanceof NoTerminalError)) throw error;
        throw new CliError(`this needs the owner, and there is no terminal to ask on: the owner must run it in a terminal (and type the owner passphrase), or do it in the Latchkey UI (${this.uiUrl}) or the desktop app`);
      }
    }
    if (!passphrase) throw new CliError('the owner passphrase is empty; nothing was changed');
    const response = await this.send('POST', '/owner/presence', { passphrase });
    if (ok(response.status)) {
      this.presenceToken = (safeJson(response.text) as PresenceProof).presence_token;
      return;
    }
    const error = errorOf(response);
    if (error?.error === 'wrong_passphrase') throw new CliError('wrong owner passphrase; nothing was changed');
    if (error?.error === 'too_many_attempts') throw new CliError(`too many wrong owner passphrases: try again ${retryWhen(response.retryAfter)}; nothing was changed`);
    throw refusal(response);
  }

  /** Sends; a refusal for want of the owner is asked again once, with the owner's fresh presence. */
  private async sendAsOwner(method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await this.send(method, path, body);
    if (response.status !== 403 || errorOf(response)?.error !== OWNER_PRESENCE_REQUIRED || this.presenceToken) return response;
    await this.provePresence();
    return this.send(method, path, body);
  }

  private send(method: string, path: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (this.presenceToken) headers[PRESENCE_HEADER] = this.presenceToken;
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
    // Over the socket Node sends `Host: localhost`, which the socket does not check; over TCP the
    // issuer's own authority, which the perimeter requires.
    const target: RequestOptions = this.socket ? { socketPath: this.socket } : { host: new URL(this.issuer).hostname, port: new URL(this.issuer).port };
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ ...target, method, path: `/api${path}`, headers, timeout: ANSWER_TIMEOUT_MS }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
        const retryAfter = response.headers['retry-after'] ?? null;
        response.once('end', () => resolve({ status: response.statusCode ?? 0, text, retryAfter }));
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

interface Answer { status: number; text: string; retryAfter: string | null }

const ok = (status: number): boolean => status >= 200 && status < 300;

const errorOf = (response: Answer): { error?: string; error_description?: string } | undefined =>
  safeJson(response.text) as { error?: string; error_description?: string } | undefined;

function refusal(response: Answer): CliError {
  const error = errorOf(response);
  return new CliError(error?.error_description ?? error?.error ?? `the broker answered ${response.status}`, 1, error?.error);
}

/** "in 30 s (at 21:14:05)" from a Retry-After of seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryWhen(retryAfter: string | null): string {
  if (!retryAfter) return 'later';
  const at = /^\d+$/.test(retryAfter) ? Date.now() + Number(retryAfter) * 1000 : Date.parse(retryAfter);
  if (Number.isNaN(at)) return 'later';
  const seconds = Math.max(1, Math.ceil((at - Date.now()) / 1000));
  return `in ${seconds} s (at ${new Date(at).toLocaleTimeString()})`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
