import { request } from 'node:http';

/** One HTTP request, over loopback TCP or over a Unix socket (`fetch` cannot reach a socket). */
export interface Exchange {
  url: string;
  /** When set, the request goes over this Unix socket; `url` then gives only the path (and the Host). */
  socketPath?: string | undefined;
  method: string;
  headers?: Record<string, string>;
  body?: string;
}

export function send(exchange: Exchange): Promise<{ status: number; text: string }> {
  const url = new URL(exchange.url);
  const where = exchange.socketPath ? { socketPath: exchange.socketPath } : { host: url.hostname, port: url.port };
  return new Promise((resolve, reject) => {
    const outgoing = request({ ...where, path: `${url.pathname}${url.search}`, method: exchange.method, headers: { host: url.host, ...exchange.headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.setTimeout(10_000, () => outgoing.destroy(new Error(`${exchange.method} ${exchange.url}${exchange.socketPath ? ` on ${exchange.socketPath}` : ''}: no answer within 10 s`)));
    outgoing.on('error', reject);
    outgoing.end(exchange.body);
  });
}
