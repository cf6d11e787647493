// What every refusal must look like (DESIGN.md §6): the RFC's error code and status, nothing issued,
// nothing changed but refusal rows in the audit log, no secret echoed, and never a CORS header.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { HttpResult, TestBroker } from './broker.js';

export interface StateSnapshot {
  /** Every table but the audit log, row for row. */
  tables: Map<string, string>;
  auditHead: number;
}

/** The broker's committed state, read straight from its SQLite file. */
export function snapshot(test: TestBroker): StateSnapshot {
  const db = test.broker.db;
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'audit_log' ORDER BY name").all() as Array<{ name: string }>).map((row) => row.name);
  const tables = new Map<string, string>();
  for (const name of names) {
    const rows = db.prepare(`SELECT * FROM ${name}`).all().map((row) => JSON.stringify(row)).sort();
    tables.set(name, rows.join('\n'));
  }
  return { tables, auditHead: auditHead(test) };
}

export function auditHead(test: TestBroker): number {
  return (test.broker.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_log').get() as { seq: number }).seq;
}

export interface AuditRow {
  event: string;
  decision: string;
  client_id: string | null;
  subject: string | null;
  resource: string | null;
  jti: string | null;
  reason: string | null;
  detail: string | null;
}

/** Audit rows written since a snapshot. */
export function auditSince(test: TestBroker, seq: number): AuditRow[] {
  return test.broker.db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq').all(seq) as AuditRow[];
}

export interface ExpectedRefusal {
  status: number;
  error: string;
  /** Values that must not appear anywhere in the response (secrets, keys, assertions). */
  secrets?: readonly string[];
  /** Whether the refusal must be in the audit log (default: yes). */
  audited?: boolean;
  /** Tables allowed to change (e.g. used_assertions when client authentication succeeded). */
  mayChange?: readonly string[];
}

/**
 * Runs a request that must be refused and checks everything a refusal owes: status, OAuth error JSON,
 * no-store, no CORS, no echoed secret, the state untouched, and a `deny` row in the audit log.
 */
export async function expectRefused(test: TestBroker, send: () => Promise<HttpResult>, expected: ExpectedRefusal): Promise<HttpResult> {
  const before = snapshot(test);
  const result = await send();
  expect({ status: result.status, error: result.body?.error }).toEqual({ status: expected.status, error: expected.error });
  expect(result.headers.get('content-type')).toMatch(/^application\/json/);
  expect(result.headers.get('cache-control')).toBe('no-store');
  expect(Object.keys(result.body).every((name) => name === 'error' || name === 'error_description')).toBe(true);
  expectNoCors(result.headers);
  for (const secret of expected.secrets ?? []) expect(result.text).not.toContain(secret);

  expectUnchanged(test, before, expected.mayChange ?? []);
  const rows = auditSince(test, before.auditHead);
  if (expected.audited ?? true) {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((row) => row.decision)).toEqual(rows.map(() => 'deny'));
  } else {
    expect(rows).toEqual([]);
  }
  // What the audit log keeps about a refusal is no place for the secret either.
  for (const secret of expected.secrets ?? []) expect(JSON.stringify(rows)).not.toContain(secret);
  return result;
}

/** Nothing but the audit log (and the named tables) changed since the snapshot. */
export function expectUnchanged(test: TestBroker, before: StateSnapshot, mayChange: readonly string[] = []): void {
  const after = snapshot(test);
  for (const [name, rows] of before.tables) {
    if (!mayChange.includes(name)) expect(after.tables.get(name), `table ${name} changed`).toBe(rows);
  }
}

export function expectNoCors(headers: Headers | Record<string, unknown>): void {
  const names = headers instanceof Headers ? [...headers.keys()] : Object.keys(headers);
  expect(names.filter((name) => name.toLowerCase().startsWith('access-control-'))).toEqual([]);
}

/**
 * A request with full control of the headers, Host included (fetch will not send a foreign Host).
 * Returns the same shape as postForm.
 */
export function rawRequest(issuer: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string; omitHost?: boolean }): Promise<HttpResult> {
  const url = new URL(issuer);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: options.method,
      path: options.path,
      headers: options.headers ?? {},
      setHost: !options.omitHost,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = undefined; }
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: res.statusCode ?? 0, headers, body, text });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export interface FrontChannelRefusal {
  /** An error page (the client or redirect URI is in doubt: never redirect), or a redirect with `error`. */
  shown?: number;
  redirect?: { to: string; error: string; state?: string | null; iss: string };
  /** Tables allowed to change besides the audit log. */
  mayChange?: readonly string[];
}

/**
 * A refusal at the authorization endpoint (OAuth 2.1 §4.1.2.1): either an HTML error page that does not
 * redirect, or a 303 to the client with `error`, `state` and `iss` (RFC 9207); nothing changed but a
 * `deny` row in the audit log.
 */
export async function expectFrontChannelRefused(test: TestBroker, send: () => Promise<{ status: number; headers: Headers; location: string | null; html: string }>, expected: FrontChannelRefusal) {
  const before = snapshot(test);
  const result = await send();
  if (expected.shown !== undefined) {
    expect(result.status).toBe(expected.shown);
    expect(result.location).toBeNull();
    expect(result.headers.get('content-type')).toMatch(/^text\/html/);
    expect(result.headers.get('x-frame-options')).toBe('DENY');
    expect(result.html).not.toMatch(/<script/i);
  } else {
    const redirect = expected.redirect!;
    expect(result.status).toBe(303);
    const location = new URL(result.location!);
    expect(location.origin + location.pathname).toBe(redirect.to);
    expect(location.searchParams.get('error')).toBe(redirect.error);
    expect(location.searchParams.get('iss')).toBe(redirect.iss);
    expect(location.searchParams.get('state')).toBe(redirect.state ?? null);
    expect(location.searchParams.get('code')).toBeNull();
  }
  expectNoCors(result.headers);
  expectUnchanged(test, before, expected.mayChange ?? []);
  const rows = auditSince(test, before.auditHead);
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.map((row) => row.decision)).toEqual(rows.map(() => 'deny'));
  return result;
}
