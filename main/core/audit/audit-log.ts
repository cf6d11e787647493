import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';

export type Decision = 'allow' | 'deny' | 'info';

/** What happened. Never a secret, a token or a key: identifiers, names and reasons only. */
export interface AuditEvent {
  event: string;
  decision: Decision;
  clientId?: string | null | undefined;
  subject?: string | null | undefined;
  resource?: string | null | undefined;
  grantType?: string | null | undefined;
  reason?: string | null | undefined;
  jti?: string | null | undefined;
  detail?: Record<string, unknown> | null | undefined;
}

export interface AuditRecord {
  seq: number;
  at: number;
  event: string;
  decision: Decision;
  client_id: string | null;
  subject: string | null;
  resource: string | null;
  grant_type: string | null;
  reason: string | null;
  jti: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditFilter {
  clientId?: string | undefined;
  subject?: string | undefined;
  resource?: string | undefined;
  event?: string | undefined;
  decision?: Decision | undefined;
  /** Epoch milliseconds: rows at or after `since`, before `until`. */
  since?: number | undefined;
  until?: number | undefined;
  afterSeq?: number | undefined;
  /** Rows older than this row (`seq` below it): the audit page's "older" cursor. */
  beforeSeq?: number | undefined;
  limit?: number | undefined;
}

export type VerifyResult = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; why: string };

const GENESIS = '0'.repeat(64);

/** The hash of a row covers every field and the previous row's hash, so editing or dropping a row breaks the chain. */
function rowHash(prevHash: string, row: Omit<AuditRecord, 'prev_hash' | 'hash'>): string {
  const canonical = JSON.stringify([
    row.seq, row.at, row.event, row.decision, row.client_id, row.subject, row.resource,
    row.grant_type, row.reason, row.jti, row.detail,
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

/**
 * The append-only, hash-chained audit log. `append` must be called inside the same transaction that
 * records what it describes: if the row cannot be written, the transaction (and the issuance) fails.
 */
export class AuditLog {
  private readonly insert;
  private readonly last;
  private readonly bySeq;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (seq, at, event, decision, client_id, subject, resource, grant_type, reason, jti, detail, prev_hash, hash)
       VALUES (@seq, @at, @event, @decision, @client_id, @subject, @resource, @grant_type, @reason, @jti, @detail, @prev_hash, @hash)`,
    );
    this.last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.bySeq = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  /** Appends one row. Call within a transaction. */
  append(event: AuditEvent): AuditRecord {
    // The head is read inside the transaction (a primary-key lookup), so a rolled-back append leaves
    // nothing stale behind and a second writer (the CLI on the same file) cannot fork the chain.
    const head = (this.last.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS };
    const row = {
      seq: head.seq + 1,
      at: this.clock.now(),
      event: event.event,
      decision: event.decision,
      client_id: event.clientId ?? null,
      subject: event.subject ?? null,
      resource: event.resource ?? null,
      grant_type: event.grantType ?? null,
      reason: event.reason ?? null,
      jti: event.jti ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
    };
    const record: AuditRecord = { ...row, prev_hash: head.hash, hash: rowHash(head.hash, row) };
    this.insert.run(record);
    return record;
  }

  /** Appends one row in a transaction of its own: for events that record nothing else. */
  record(event: AuditEvent): AuditRecord {
    return this.db.transaction(() => this.append(event)).immediate();
  }

  /** The newest rows the filter matches first, at most `limit` (100 unless given). */
  list(filter: AuditFilter = {}): AuditRecord[] {
    const { where, args } = whereOf(filter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10_000);
    return this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY seq DESC LIMIT ?`).all(...args, limit) as AuditRecord[];
  }

  /** Every row the filter matches, oldest first, in pages: an export of what the audit page shows. */
  *matching(filter: Omit<AuditFilter, 'afterSeq' | 'limit'>, pageSize = 1000): Generator<AuditRecord> {
    let after = 0;
    for (;;) {
      const { where, args } = whereOf({ ...filter, afterSeq: after });
      const page = this.db.prepare(`SELECT * FROM audit_log ${where} ORDER BY seq LIMIT ?`).all(...args, pageSize) as AuditRecord[];
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1]!.seq;
    }
  }

  /** The rows after `afterSeq`, oldest first, at most `limit` (the live feed reads on from where it was). */
  after(afterSeq: number, limit: number): AuditRecord[] {
    return this.bySeq.all(afterSeq, limit) as AuditRecord[];
  }

  /** Every row in order, in pages, for export and verification without loading the whole log. */
  *all(pageSize = 1000): Generator<AuditRecord> {
    let after = 0;
    for (;;) {
      const page = this.bySeq.all(after, pageSize) as AuditRecord[];
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1]!.seq;
    }
  }

  /** Recomputes the chain from the first row; reports the first row that does not fit. */
  verify(): VerifyResult {
    let prev = GENESIS;
    let expectedSeq = 1;
    let rows = 0;
    for (const record of this.all()) {
      const { prev_hash, hash, ...row } = record;
      if (record.seq !== expectedSeq) return { ok: false, rows, brokenAt: record.seq, why: `row ${expectedSeq} is missing` };
      if (prev_hash !== prev) return { ok: false, rows, brokenAt: record.seq, why: 'does not follow the previous row' };
      if (rowHash(prev, row) !== hash) return { ok: false, rows, brokenAt: record.seq, why: 'contents do not match its hash' };
      prev = hash;
      expectedSeq++;
      rows++;
    }
    return { ok: true, rows };
  }
}

/** The SQL condition of a filter; values travel as parameters. */
function whereOf(filter: AuditFilter): { where: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.clientId) { where.push('client_id = ?'); args.push(filter.clientId); }
  if (filter.subject) { where.push('subject = ?'); args.push(filter.subject); }
  if (filter.resource) { where.push('resource = ?'); args.push(filter.resource); }
  if (filter.event) { where.push('event = ?'); args.push(filter.event); }
  if (filter.decision) { where.push('decision = ?'); args.push(filter.decision); }
  if (filter.since !== undefined) { where.push('at >= ?'); args.push(filter.since); }
  if (filter.until !== undefined) { where.push('at < ?'); args.push(filter.until); }
  if (filter.afterSeq !== undefined) { where.push('seq > ?'); args.push(filter.afterSeq); }
  if (filter.beforeSeq !== undefined) { where.push('seq < ?'); args.push(filter.beforeSeq); }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/** Export formats: one JSON object per line, or CSV with a header row. */
export function formatAuditRecord(record: AuditRecord, format: 'jsonl' | 'csv'): string {
  const out = { ...record, at: new Date(record.at).toISOString() };
  if (format === 'jsonl') return JSON.stringify(out);
  return AUDIT_CSV_COLUMNS.map((column) => csvField(out[column])).join(',');
}

export const AUDIT_CSV_COLUMNS = [
  'seq', 'at', 'event', 'decision', 'client_id', 'subject', 'resource', 'grant_type', 'reason', 'jti', 'detail', 'prev_hash', 'hash',
] as const;

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // A cell starting with = + - @ is a formula to spreadsheet programs: CSV injection.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
