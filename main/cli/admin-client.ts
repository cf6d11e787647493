import { CliError } from './cli-error.js';
import { findRunningBroker } from './runtime.js';

/** The admin API of the running broker, as the CLI sees it. */
export class AdminClient {
  private constructor(readonly issuer: string, private readonly token: string) {}

  static forDataDir(dataDir: string): AdminClient {
    const { runtime, adminToken } = findRunningBroker(dataDir);
    return new AdminClient(runtime.issuer, adminToken);
  }

  async request<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const error = parsed as { error?: string; error_description?: string } | undefined;
      throw new CliError(error?.error_description ?? error?.error ?? `the broker answered ${response.status}`);
    }
    return parsed as T;
  }

  async text(path: string): Promise<string> {
    const response = await this.send('GET', path);
    const text = await response.text();
    if (!response.ok) throw new CliError((safeJson(text) as { error_description?: string } | undefined)?.error_description ?? `the broker answered ${response.status}`);
    return text;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.issuer}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(`cannot reach the broker at ${this.issuer}: ${(error as Error).message}`);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
