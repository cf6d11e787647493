// A real broker for tests: a real SQLite file in a temp dir, a real vault, HTTP on 127.0.0.1:0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../main/core/broker.js';
import type { Clock } from '../../main/core/clock.js';
import type { Prompter } from '../../main/core/consent/prompter.js';
import { silentLogger } from '../../main/core/logger.js';
import type { RegistrationLimits } from '../../main/core/sts/endpoints/registration.js';
import type { LocalSocketLimits } from '../../main/core/transport/local-socket.js';

/** A cheap scrypt for tests that are not about the KDF (the default costs ~0.5 s per unlock). */
export const TEST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
export const TEST_PASSPHRASE = 'correct horse battery staple';

export interface TestBroker {
  broker: Broker;
  issuer: string;
  dataDir: string;
  /** The local socket's path, when the test asked for one. */
  socket: string | null;
  /** Calls the admin API as the CLI would (admin bearer token). */
  admin<T = any>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Stops and starts a broker on the same data dir (state must survive). */
  restart(): Promise<TestBroker>;
  close(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  /**
   * Passphrase vault (default), the OS keychain ('keychain': needs the test's Secret Service), or no
   * passphrase given ('locked': an existing passphrase vault stays locked until unlocked).
   */
  vault?: 'passphrase' | 'keychain' | 'locked';
  passphrase?: string;
  clock?: Clock;
  /** The port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Dynamic registration's rate limit and cap; tests that are not about them raise them out of the way. */
  registrationLimits?: Partial<RegistrationLimits>;
  /** Also serve the local socket: true for the default path (DATA_DIR/run/latchkey.sock), or a path. */
  socket?: boolean | string;
  localSocketLimits?: Partial<LocalSocketLimits>;
  /** A shell's way of asking the user about approvals (CIBA). */
  prompter?: Prompter;
}

export async function startBroker(options: StartOptions = {}): Promise<TestBroker> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  const broker = await Broker.open({
    dataDir,
    passphrase: options.vault === 'keychain' || options.vault === 'locked' ? undefined : (options.passphrase ?? TEST_PASSPHRASE),
    scrypt: TEST_SCRYPT,
    clock: options.clock,
    log: silentLogger,
    registrationLimits: options.registrationLimits,
    localSocketLimits: options.localSocketLimits,
    prompter: options.prompter,
  });
  const issuer = await broker.listen(options.port ?? 0);
  let socket: string | null = null;
  if (options.socket) {
    try {
      socket = await broker.listenSocket(options.socket === true ? undefined : options.socket);
    } catch (error) {
      await broker.close();
      throw error;
    }
  }
  // A fresh data dir's ID-token key is made after start; tests that are not about that see it made.
  await broker.keys.whenMade();
  const test: TestBroker = {
    broker,
    issuer,
    dataDir,
    socket,
    async admin(method, path, body) {
      const response = await fetch(`${issuer}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${broker.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async restart() {
      await broker.close();
      // The broker closed its idle keep-alive connections, but fetch's pool (in this same process) learns of
      // it only when the event loop reads their FIN: until then it may send the next request down a dead
      // socket ("other side closed"). A short wait lets it notice.
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Same port, so the same issuer: tokens issued before the restart carry it in `iss`.
      return startBroker({ ...options, dataDir, port: Number(new URL(issuer).port) });
    },
    async close() {
      await broker.close();
    },
  };
  return test;
}

/** Removes a test data dir (call after close). */
export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

export interface Service {
  clientId: string;
  clientSecret: string;
  resource: string;
}

let counter = 0;

/** A resource with scopes and a confidential service app depending on it, through the admin API. */
export async function registerService(test: TestBroker, options: {
  scopes?: string[];
  appScopes?: string[];
  authMethod?: string;
  jwks?: unknown;
  grantTypes?: string[];
  resource?: string;
} = {}): Promise<Service> {
  const resource = options.resource ?? `https://api-${++counter}.example.test/`;
  if (!options.resource || (await test.admin('GET', '/resources')).body.every((r: { identifier: string }) => r.identifier !== resource)) {
    const created = await test.admin('POST', '/resources', { name: `API ${counter}`, identifier: resource, scopes: options.scopes ?? ['read', 'write'] });
    if (created.status !== 201) throw new Error(`resource create failed: ${JSON.stringify(created.body)}`);
  }
  const app = await test.admin('POST', '/applications', {
    name: `Service ${counter}`,
    identity_type: 'service',
    auth_method: options.authMethod ?? 'client_secret_basic',
    resources: [resource],
    ...(options.appScopes ? { scopes: options.appScopes } : {}),
    ...(options.jwks ? { jwks: options.jwks } : {}),
    ...(options.grantTypes ? { grant_types: options.grantTypes } : {}),
  });
  if (app.status !== 201) throw new Error(`application create failed: ${JSON.stringify(app.body)}`);
  return { clientId: app.body.client_id, clientSecret: app.body.client_secret, resource };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** A form POST to an endpoint of the broker, the way an OAuth client sends it. */
export async function postForm(url: string, params: Record<string, string | string[]> | string, options: {
  basic?: [string, string];
  headers?: Record<string, string>;
} = {}): Promise<HttpResult> {
  let body: string;
  if (typeof params === 'string') {
    body = params;
  } else {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
    body = search.toString();
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...options.headers };
  if (options.basic) headers.authorization = basicAuth(...options.basic);
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** RFC 6749 §2.3.1: each half form-urlencoded, then base64. */
export function basicAuth(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** Rows of a table, read straight from the SQLite file (what the broker committed). */
export function count(test: TestBroker, table: string, where = '1 = 1', ...args: unknown[]): number {
  return (test.broker.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...args) as { n: number }).n;
}

/** A JSON POST (dynamic client registration, RFC 7591 §3.1); `body` as a string is sent as it is. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
