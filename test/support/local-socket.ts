// HTTP over the broker's local socket, the way an agent on this machine sends it (node:http, socketPath).
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { HttpResult } from './broker.js';

export interface SocketRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The Host header: a value, or null to send none at all (default: Node's `localhost`). */
  host?: string | null;
}

export function overSocket(socketPath: string, options: SocketRequest): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (typeof options.host === 'string') headers.host = options.host;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const outgoing = request({ socketPath, method: options.method ?? 'GET', path: options.path, headers, setHost: options.host !== null, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
      response.once('end', () => {
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = undefined; }
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: response.statusCode ?? 0, headers, text, body });
      });
    });
    outgoing.once('error', reject);
    outgoing.end(options.body);
  });
}

/** A form POST over the socket (an OAuth client's token request). */
export function postFormOverSocket(socketPath: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}, host?: string | null): Promise<HttpResult> {
  return overSocket(socketPath, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
    ...(host === undefined ? {} : { host }),
  });
}

/** A raw connection to the socket, resolved once connected. */
export function rawConnection(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with what the server sent before it closed the connection; rejects after `timeoutMs`. */
export function whenClosed(socket: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => { received += chunk; });
    socket.on('error', () => {});
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', () => { clearTimeout(timer); resolve(received); });
  });
}

/** One keep-alive request on an open raw connection; resolves with the status line's code. */
export function requestOnConnection(socket: Socket, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer | string) => {
      received += chunk.toString();
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: *(\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(Number(received.slice(9, 12)));
    };
    const onClose = () => reject(new Error('the connection closed before an answer'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  });
}
