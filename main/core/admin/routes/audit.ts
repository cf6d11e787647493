import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { auditExportQuery, auditQuery } from '../../../../shared/admin-api.js';
import { AUDIT_CSV_COLUMNS, formatAuditRecord, type AuditFilter, type AuditRecord } from '../../audit/audit-log.js';
import { DirectoryError } from '../../directory/errors.js';
import { InvalidRequest } from '../../oauth/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { parse, type AdminScope } from '../admin-scope.js';

/** The audit log: pages of rows, a live feed of new ones, verification of the chain, and export. */
export function registerAuditRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/audit', async (request, reply) => {
    const query = parse(auditQuery, request.query);
    return sendJson(reply, deps.audit.list({ ...auditFilterOf(query), beforeSeq: query.before, limit: query.limit }));
  });

  // New audit rows as server-sent events (the UI's audit page and overview).
  api.get('/audit/events', async (request, reply) => {
    if (request.url.includes('?')) throw new InvalidRequest('the feed takes no parameters');
    reply.hijack();
    deps.auditFeed.open(reply.raw);
  });

  api.get('/audit/verify', async (_request, reply) => sendJson(reply, deps.audit.verify()));

  // Exports what the audit page shows: every row its filters match, not only the page's latest.
  api.get('/audit/export', async (request, reply) => {
    // Everything the log knows leaves with an export: the owner's to take (issue 12 §1).
    requireOwner(request);
    const parsed = auditExportQuery.safeParse(request.query);
    if (!parsed.success) {
      if (parsed.error.issues.some((issue) => issue.path[0] === 'format')) throw new InvalidRequest('format must be jsonl or csv');
      throw DirectoryError.fromZod(parsed.error);
    }
    return exportAudit(deps.audit.matching(auditFilterOf(parsed.data)), parsed.data.format, reply);
  });
}

/** The audit log's filter from the admin API's query; `user` is another name for `subject`. */
function auditFilterOf(query: Omit<z.output<typeof auditExportQuery>, 'format'>): AuditFilter {
  if (query.subject && query.user && query.subject !== query.user) throw new DirectoryError('subject and user name different users: give one');
  return { clientId: query.client_id, subject: query.subject || query.user, resource: query.resource, event: query.event, decision: query.decision, since: query.since, until: query.until };
}

function exportAudit(records: Iterable<AuditRecord>, format: 'jsonl' | 'csv', reply: FastifyReply): FastifyReply {
  const lines: string[] = format === 'csv' ? [AUDIT_CSV_COLUMNS.join(',')] : [];
  for (const record of records) lines.push(formatAuditRecord(record, format));
  return reply
    .header('cache-control', 'no-store')
    .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
    .send(lines.join('\n') + (lines.length ? '\n' : ''));
}
