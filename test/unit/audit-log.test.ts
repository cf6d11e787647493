// The audit log: append-only, hash-chained, exportable, and never a place where a secret ends up.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS, AuditLog, formatAuditRecord, type AuditRecord } from '../../main/core/audit/audit-log.js';
import type { Clock } from '../../main/core/clock.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import { postForm, registerService, startBroker, type TestBroker } from '../support/broker.js';

/** RFC 4180 CSV, read back the way a spreadsheet would split it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

describe('audit log', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let audit: AuditLog;
  let now: number;
  const clock: Clock = { now: () => now };
  const raws: Database.Database[] = [];

  /** A second connection to the same file, as an attacker with file access would have. */
  const raw = (): Database.Database => {
    const connection = new Database(file);
    raws.push(connection);
    return connection;
  };
  const dropTriggers = (connection: Database.Database): void => {
    connection.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-audit-'));
    file = join(dir, 'latchkey.db');
    db = openDatabase(file);
    now = Date.UTC(2025, 0, 1);
    audit = new AuditLog(db, clock);
    for (let i = 1; i <= 5; i++) {
      now += 1000;
      audit.record({ event: 'token.issued', decision: 'allow', clientId: `app_${i}`, subject: `client:app_${i}`, resource: 'https://api.example.test/', grantType: 'client_credentials', jti: `jti-${i}`, detail: { scope: 'read' } });
    }
  });
  afterEach(() => {
    for (const connection of raws.splice(0)) connection.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains every row to the one before it, from a fixed genesis', () => {
    const rows = [...audit.all()];
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(new Set(rows.map((row) => row.hash)).size).toBe(rows.length);
    expect(audit.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('an append rolled back with its transaction leaves no row and no gap in the chain', () => {
    expect(() => db.transaction(() => {
      audit.append({ event: 'token.issued', decision: 'allow', jti: 'never' });
      throw new Error('issuance failed');
    }).immediate()).toThrow('issuance failed');
    const next = audit.record({ event: 'token.revoked', decision: 'info', jti: 'jti-1' });
    expect(next.seq).toBe(6);
    expect(audit.verify()).toEqual({ ok: true, rows: 6 });
  });

  it('refuses UPDATE and DELETE through any connection (append-only triggers)', () => {
    const connection = raw();
    expect(() => connection.prepare("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => connection.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(audit.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('with the triggers dropped, a changed field is found: verify names the first broken row', () => {
    const connection = raw();
    dropTriggers(connection);
    connection.prepare("UPDATE audit_log SET reason = 'approved by admin' WHERE seq = 3").run();
    expect(audit.verify()).toMatchObject({ ok: false, brokenAt: 3, rows: 2 });
  });

  it('with the triggers dropped, a deleted middle row is found at the row after the gap', () => {
    const connection = raw();
    dropTriggers(connection);
    connection.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    const result = audit.verify();
    expect(result).toMatchObject({ ok: false, brokenAt: 4, rows: 2 });
    expect(result.ok === false && result.why).toMatch(/row 3 is missing/);
  });

  it('a rewritten row whose own hash was recomputed still breaks the link to the next row', () => {
    const connection = raw();
    dropTriggers(connection);
    // The forger knows the hash recipe (sha256 of the previous hash, a newline, the row's fields as JSON)
    // and makes row 2 consistent with itself; row 3 still names the old hash of row 2.
    const row = connection.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as AuditRecord;
    const forged = { ...row, reason: 'approved by admin' };
    const hash = createHash('sha256').update(forged.prev_hash).update('\n').update(JSON.stringify([
      forged.seq, forged.at, forged.event, forged.decision, forged.client_id, forged.subject, forged.resource,
      forged.grant_type, forged.reason, forged.jti, forged.detail,
    ])).digest('hex');
    connection.prepare('UPDATE audit_log SET reason = ?, hash = ? WHERE seq = 2').run(forged.reason, hash);
    const result = audit.verify();
    expect(result).toMatchObject({ ok: false, brokenAt: 3, rows: 2 });
    expect(result.ok === false && result.why).toMatch(/previous row/);
  });

  it('lists newest first, narrowed by application, subject, resource, decision and a time window', () => {
    now += 1000;
    audit.record({ event: 'token.refused', decision: 'deny', clientId: 'app_2', subject: 'usr_ada', resource: 'https://other.example.test/', grantType: 'authorization_code' });
    const start = Date.UTC(2025, 0, 1);
    const seqs = (filter: Parameters<AuditLog['list']>[0]) => audit.list(filter).map((row) => row.seq);
    expect(seqs({})).toEqual([6, 5, 4, 3, 2, 1]);
    expect(seqs({ clientId: 'app_2' })).toEqual([6, 2]);
    expect(seqs({ subject: 'usr_ada' })).toEqual([6]);
    expect(seqs({ resource: 'https://api.example.test/' })).toEqual([5, 4, 3, 2, 1]);
    expect(seqs({ decision: 'deny' })).toEqual([6]);
    // since is inclusive, until exclusive: rows 2 and 3 were written at +2 s and +3 s.
    expect(seqs({ since: start + 2000, until: start + 4000 })).toEqual([3, 2]);
    expect(seqs({ clientId: 'app_2', since: start + 3000 })).toEqual([6]);
    expect(seqs({ subject: "usr_ada' OR '1'='1" })).toEqual([]);
  });

  describe('export', () => {
    it('JSONL: one parseable object per row, with an ISO time', () => {
      const lines = [...audit.all()].map((record) => formatAuditRecord(record, 'jsonl'));
      expect(lines).toHaveLength(5);
      for (const [index, line] of lines.entries()) {
        expect(line).not.toContain('\n');
        const parsed = JSON.parse(line) as AuditRecord & { at: string };
        expect(parsed.seq).toBe(index + 1);
        expect(new Date(parsed.at).toISOString()).toBe(parsed.at);
        expect(JSON.parse(parsed.detail!)).toEqual({ scope: 'read' });
      }
    });

    it('CSV: a header, commas and quotes escaped, newlines kept in their cell', () => {
      const record = audit.record({ event: 'token.refused', decision: 'deny', clientId: 'app_x', reason: 'invalid_scope: "admin", not allowed\nsecond line', detail: { a: 1, b: 'two' } });
      const csv = [AUDIT_CSV_COLUMNS.join(','), formatAuditRecord(record, 'csv')].join('\n');
      const [header, row, ...rest] = parseCsv(csv);
      expect(rest).toEqual([]);
      expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
      expect(row).toHaveLength(AUDIT_CSV_COLUMNS.length);
      const cell = (name: (typeof AUDIT_CSV_COLUMNS)[number]) => row![AUDIT_CSV_COLUMNS.indexOf(name)];
      expect(cell('reason')).toBe('invalid_scope: "admin", not allowed\nsecond line');
      expect(JSON.parse(cell('detail')!)).toEqual({ a: 1, b: 'two' });
      expect(cell('seq')).toBe(String(record.seq));
      expect(cell('hash')).toBe(record.hash);
    });

    it('CSV: a cell a spreadsheet would run as a formula (= + - @) is neutralised', () => {
      const formulas = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1:A2)', '\t=1', '\r=1'];
      for (const formula of formulas) {
        const record = audit.record({ event: 'token.refused', decision: 'deny', clientId: formula, resource: formula, reason: formula });
        const [row] = parseCsv(formatAuditRecord(record, 'csv'));
        for (const name of ['client_id', 'resource', 'reason'] as const) {
          const cell = row![AUDIT_CSV_COLUMNS.indexOf(name)]!;
          expect(cell).toBe(`'${formula}`);
          expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        }
      }
    });
  });
});

describe('no secret reaches the audit log', () => {
  let test: TestBroker;

  beforeAll(async () => {
    test = await startBroker();
  });
  afterAll(() => test.close());

  it('after an app with a secret, an API key and tokens issued with both, no audit column holds any of them', async () => {
    const service = await registerService(test, { scopes: ['read'] });
    const key = await test.admin('POST', `/applications/${service.clientId}/api-keys`);
    expect(key.status).toBe(201);
    const apiKey: string = key.body.api_key;

    const token = `${test.issuer}/oauth2/token`;
    const bySecret = await postForm(token, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, service.clientSecret] });
    const byKey = await postForm(token, { grant_type: 'api_key', api_key: apiKey, resource: service.resource });
    const secretInPost = await postForm(token, { grant_type: 'client_credentials', resource: service.resource, client_id: service.clientId, client_secret: service.clientSecret });
    expect([bySecret.status, byKey.status]).toEqual([200, 200]);
    // Refusals are audited too, and must not echo what was presented either.
    const wrongKey = await postForm(token, { grant_type: 'api_key', api_key: `${apiKey.slice(0, -4)}AAAA`, resource: service.resource });
    const wrongSecret = await postForm(token, { grant_type: 'client_credentials', resource: service.resource }, { basic: [service.clientId, `${service.clientSecret}x`] });
    expect([wrongKey.status, wrongSecret.status]).toEqual([400, 401]);
    const revoked = await postForm(`${test.issuer}/oauth2/token/revoke`, { token: bySecret.body.access_token }, { basic: [service.clientId, service.clientSecret] });
    expect(revoked.status).toBe(200);

    const accessTokens: string[] = [bySecret.body.access_token, byKey.body.access_token, secretInPost.body?.access_token].filter(Boolean);
    const secrets = [service.clientSecret, apiKey, apiKey.slice('lk_sk_'.length), ...accessTokens, ...accessTokens.map((jwt) => jwt.split('.')[2]!)];

    const rows = test.broker.db.prepare('SELECT * FROM audit_log').all() as Array<Record<string, unknown>>;
    expect(rows.some((row) => row.event === 'token.issued')).toBe(true);
    expect(rows.some((row) => row.event === 'admin.api_key_created')).toBe(true);
    expect(rows.some((row) => row.event === 'token.refused')).toBe(true);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null) continue;
        for (const secret of secrets) expect(String(value), `audit_log.${column} of row ${String(row.seq)}`).not.toContain(secret);
      }
    }
    for (const format of ['jsonl', 'csv']) {
      const exported = await fetch(`${test.issuer}/api/audit/export?format=${format}`, { headers: { authorization: `Bearer ${test.broker.adminToken}` } });
      expect(exported.status).toBe(200);
      const text = await exported.text();
      expect(text.trim().split('\n').length).toBe(rows.length + (format === 'csv' ? 1 : 0));
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect((await test.admin('GET', '/audit/verify')).body).toEqual({ ok: true, rows: rows.length });
  });
});
