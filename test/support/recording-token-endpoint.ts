// A stand-in token endpoint on a Unix socket that records what it is sent and answers what the test says:
// for checking the exact request an agent helper sends (and how it counts them), where the real broker
// cannot yet answer (impersonation) or would hide the count.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  form: URLSearchParams;
}

export interface Answer {
  status: number;
  body: unknown;
  /** Held back this long, so that concurrent requests overlap. */
  delayMs?: number;
}

export class RecordingTokenEndpoint {
  readonly requests: RecordedRequest[] = [];
  answer: (request: RecordedRequest) => Answer = () => ({ status: 200, body: { access_token: `token-${this.requests.length}`, token_type: 'Bearer', expires_in: 600 } });

  private constructor(private readonly server: Server, readonly dataDir: string, readonly socket: string) {}

  /** Listening on DATA_DIR/run.sock, with a runtime.json naming it (and this process as the broker). */
  static async start(): Promise<RecordingTokenEndpoint> {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-recording-'));
    const socket = join(dataDir, 'run.sock');
    const server = createServer();
    const endpoint = new RecordingTokenEndpoint(server, dataDir, socket);
    server.on('request', (request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      request.once('end', () => {
        const recorded = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, form: new URLSearchParams(body) };
        endpoint.requests.push(recorded);
        const answer = endpoint.answer(recorded);
        setTimeout(() => response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body)), answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    writeFileSync(join(dataDir, 'runtime.json'), JSON.stringify({ issuer: 'http://127.0.0.1:9', pid: process.pid, socket, started_at: new Date().toISOString() }));
    return endpoint;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The client id and secret of a Basic Authorization header, form-decoded (RFC 6749 §2.3.1). */
export function basicCredentials(header: string | string[] | undefined): [string, string] {
  const decoded = Buffer.from(String(header).replace(/^Basic /, ''), 'base64').toString('utf8');
  const [id, secret] = decoded.split(':').map((half) => decodeURIComponent(half.replace(/\+/g, ' ')));
  return [id!, secret!];
}
