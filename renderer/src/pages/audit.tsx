// The audit log: everything issued and refused, newest first, live. Filters by application, user,
// resource, decision and time, paged back 200 rows at a time ("Show older"); the delegation chain of each
// issuance drawn as a path; export of every row the filters match; and a check that the hash chain is unbroken.
import { useCallback, useMemo, useState, type MouseEvent } from 'react';
import type { ApplicationView, AuditRecordView, ResourceView } from '../../../shared/admin-api.js';
import { delegationPath, type PathStep } from '../../../shared/delegation-path.js';
import { api, ensureOwnerPresent } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { formatTime } from '../time.js';
import { useEventStream } from '../use-event-stream.js';
import { messageOf, useRequest } from '../use-request.js';

interface Filters {
  client_id: string;
  subject: string;
  resource: string;
  decision: '' | 'allow' | 'deny' | 'info';
  /** datetime-local values (the viewer's time zone), or ''. */
  since: string;
  until: string;
}

const NO_FILTERS: Filters = { client_id: '', subject: '', resource: '', decision: '', since: '', until: '' };
const PAGE_SIZE = 200;

type Verification = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; why: string };

/** The admin API's filters (the list's and the export's alike); times become epoch milliseconds. */
function filterQuery(filters: Filters): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of ['client_id', 'subject', 'resource', 'decision'] as const) if (filters[key]) query.set(key, filters[key]);
  for (const key of ['since', 'until'] as const) {
    const at = filters[key] ? new Date(filters[key]).getTime() : NaN;
    if (!Number.isNaN(at)) query.set(key, String(at));
  }
  return query;
}

/** One page of the list: the newest rows the filters match, or those older than `before` (a row's seq). */
function pageQuery(filters: Filters, before?: number): string {
  const query = filterQuery(filters);
  query.set('limit', String(PAGE_SIZE));
  if (before !== undefined) query.set('before', String(before));
  return query.toString();
}

/** The export of every row the filters match (not only the pages shown). */
function exportHref(filters: Filters, format: 'jsonl' | 'csv'): string {
  const query = filterQuery(filters);
  query.set('format', format);
  return `/api/audit/export?${query}`;
}

/** Whether a row announced live belongs in the list the filters show. */
function matches(row: AuditRecordView, filters: Filters): boolean {
  if (filters.client_id && row.client_id !== filters.client_id) return false;
  if (filters.subject && row.subject !== filters.subject) return false;
  if (filters.resource && row.resource !== filters.resource) return false;
  if (filters.decision && row.decision !== filters.decision) return false;
  if (filters.since && row.at < new Date(filters.since).getTime()) return false;
  if (filters.until && row.at >= new Date(filters.until).getTime()) return false;
  return true;
}

const DECISION_BADGE: Record<AuditRecordView['decision'], string> = { allow: 'badge badge-ok', deny: 'badge badge-danger', info: 'badge' };

export default function Page({ session }: PageProps) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const rows = useRequest(() => api.get<AuditRecordView[]>(`/audit?${pageQuery(filters)}`), [filters]);
  // Older pages, fetched with the last shown row's seq as the cursor; new filters start over.
  const [older, setOlder] = useState<{ filters: Filters; rows: AuditRecordView[]; more: boolean } | null>(null);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const olderRows = older?.filters === filters ? older.rows : [];
  const shown = rows.data ? [...rows.data, ...olderRows] : null;
  const more = older?.filters === filters ? older.more : (rows.data?.length ?? 0) >= PAGE_SIZE;
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [verification, setVerification] = useState<Verification | null>(null);
  const [verifyError, setVerifyError] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  // An export is the owner's to take (issue 12 §1): the browser fetches a download link on its own, so the
  // owner's presence is asked for first; the link is then followed as it is.
  const exportLog = (event: MouseEvent<HTMLAnchorElement>) => {
    const link = event.currentTarget;
    if (link.dataset.present === 'yes') { delete link.dataset.present; return; }
    event.preventDefault();
    setExportError(null);
    ensureOwnerPresent('GET', '/audit/export').then(() => { link.dataset.present = 'yes'; link.click(); }, (caught: unknown) => setExportError(messageOf(caught)));
  };
  const [verifying, setVerifying] = useState(false);

  const onRow = useCallback((row: AuditRecordView) => {
    if (!matches(row, filters)) return;
    const current = rows.data ?? [];
    if (current.some((entry) => entry.seq === row.seq)) return;
    rows.set([row, ...current]);
  }, [filters, rows]);
  const showOlder = async () => {
    const last = shown?.[shown.length - 1];
    if (!last) return;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const page = await api.get<AuditRecordView[]>(`/audit?${pageQuery(filters, last.seq)}`);
      setOlder({ filters, rows: [...olderRows, ...page], more: page.length >= PAGE_SIZE });
    } catch (caught) {
      setOlderError(messageOf(caught));
    } finally {
      setLoadingOlder(false);
    }
  };
  const live = useEventStream<AuditRecordView>('/api/audit/events', 'audit', onRow, () => {
    // Reloading the newest page would leave a gap before older pages fetched earlier: start over.
    setOlder(null);
    void rows.reload();
  });

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const app of applications.data ?? []) map.set(`application:${app.client_id}`, app.name);
    for (const resource of resources.data ?? []) map.set(`resource:${resource.identifier}`, resource.name);
    if (session.user) map.set(`user:${session.user.id}`, session.user.name);
    return map;
  }, [applications.data, resources.data, session.user]);
  const nameOf = (kind: PathStep['kind'], id: string) => names.get(`${kind}:${id}`) ?? id;

  const verify = async () => {
    setVerifying(true);
    setVerifyError(null);
    try {
      setVerification(await api.get<Verification>('/audit/verify'));
    } catch (caught) {
      setVerifyError(messageOf(caught));
    } finally {
      setVerifying(false);
    }
  };

  const filtered = Object.values(filters).some(Boolean);
  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => setDraft({ ...draft, [key]: value });

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Everything issued and refused, in a tamper-evident log. Export takes every row the filters match."
        actions={
          <>
            <a className="button button-secondary" href={exportHref(filters, 'jsonl')} download="latchkey-audit.jsonl" onClick={exportLog}>Export JSONL</a>
            <a className="button button-secondary" href={exportHref(filters, 'csv')} download="latchkey-audit.csv" onClick={exportLog}>Export CSV</a>
            <button type="button" className="button-secondary" disabled={verifying} onClick={() => void verify()}>Verify chain</button>
          </>
        }
      />
      <ErrorBanner message={verifyError} />
      <ErrorBanner message={exportError} />
      <div aria-live="polite">
        {verification?.ok === true ? <div className="banner banner-notice"><p>The chain is intact: all {verification.rows} rows follow one another, none changed.</p></div> : null}
        {verification?.ok === false ? (
          <div className="banner banner-error" role="alert"><p>The chain is broken at row {verification.brokenAt}: {verification.why}. {verification.rows} rows before it check out.</p></div>
        ) : null}
      </div>

      <form className="card audit-filters" aria-label="Filter the audit log" onSubmit={(event) => { event.preventDefault(); setFilters(draft); }}>
        <div className="form-grid">
          <Field label="Application">
            {(control) => (
              <select {...control} value={draft.client_id} onChange={(event) => set('client_id', event.target.value)}>
                <option value="">Any</option>
                {(applications.data ?? []).map((app) => <option key={app.client_id} value={app.client_id}>{app.name}</option>)}
              </select>
            )}
          </Field>
          <Field label="User" hint="A user id, or client:… for an application acting for itself.">
            {(control) => (
              <>
                <input {...control} value={draft.subject} onChange={(event) => set('subject', event.target.value)} list="audit-users" autoComplete="off" />
                <datalist id="audit-users">{session.user ? <option value={session.user.id}>{session.user.name}</option> : null}</datalist>
              </>
            )}
          </Field>
          <Field label="Resource">
            {(control) => (
              <select {...control} value={draft.resource} onChange={(event) => set('resource', event.target.value)}>
                <option value="">Any</option>
                {(resources.data ?? []).map((resource) => <option key={resource.identifier} value={resource.identifier}>{resource.name}</option>)}
              </select>
            )}
          </Field>
          <Field label="Decision">
            {(control) => (
              <select {...control} value={draft.decision} onChange={(event) => set('decision', event.target.value as Filters['decision'])}>
                <option value="">Any</option>
                <option value="allow">Allowed</option>
                <option value="deny">Refused</option>
                <option value="info">Changes (info)</option>
              </select>
            )}
          </Field>
          <Field label="From">{(control) => <input {...control} type="datetime-local" step={1} value={draft.since} onChange={(event) => set('since', event.target.value)} />}</Field>
          <Field label="Until">{(control) => <input {...control} type="datetime-local" step={1} value={draft.until} onChange={(event) => set('until', event.target.value)} />}</Field>
        </div>
        <div className="button-row">
          <button type="submit">Apply filters</button>
          {filtered ? <button type="button" className="button-secondary" onClick={() => { setDraft(NO_FILTERS); setFilters(NO_FILTERS); }}>Clear filters</button> : null}
          <span className={live === 'open' ? 'badge badge-ok' : 'badge'}>{live === 'open' ? 'live' : 'reconnecting…'}</span>
        </div>
      </form>

      <ErrorBanner message={rows.error?.message} onRetry={() => void rows.reload()} />
      {shown && shown.length === 0 ? (
        <EmptyState title={filtered ? 'No rows match these filters' : 'The audit log is empty'}>
          {filtered ? 'Widen the filters, or clear them.' : 'Every token issued or refused, and every change an admin makes, is recorded here as it happens.'}
        </EmptyState>
      ) : null}
      {shown && shown.length > 0 ? (
        <DataTable
          caption={`Audit log, newest first (${shown.length} ${shown.length === 1 ? 'row' : 'rows'}${more ? ', older ones below' : ''})`}
          rows={shown}
          rowKey={(row) => String(row.seq)}
          columns={[
            { header: '#', secondary: true, cell: (row) => row.seq },
            { header: 'Time', cell: (row) => <time dateTime={new Date(row.at).toISOString()}>{formatTime(row.at)}</time> },
            { header: 'Event', cell: (row) => <><code>{row.event}</code>{row.grant_type ? <p className="cell-note muted">{shortGrant(row.grant_type)}</p> : null}</> },
            { header: 'Decision', cell: (row) => <span className={DECISION_BADGE[row.decision]}>{row.decision}</span> },
            { header: 'Who and what', cell: (row) => <WhoAndWhat row={row} nameOf={nameOf} /> },
            { header: 'Reason', secondary: true, cell: (row) => row.reason ?? '' },
            { header: 'Detail', secondary: true, cell: (row) => row.detail ? <DetailDisclosure detail={row.detail} /> : null },
          ]}
        />
      ) : null}
      <ErrorBanner message={olderError} onRetry={() => void showOlder()} />
      {shown && shown.length > 0 && more ? (
        <div className="button-row">
          <button type="button" className="button-secondary" disabled={loadingOlder} onClick={() => void showOlder()}>Show older</button>
        </div>
      ) : null}
    </>
  );
}

/** An issuance's path (user → agent → agent → resource), or the row's application and resource. */
function WhoAndWhat({ row, nameOf }: { row: AuditRecordView; nameOf: (kind: PathStep['kind'], id: string) => string }) {
  const path = delegationPath(row);
  if (path) {
    const spoken = path.map((step) => nameOf(step.kind, step.id)).join(' → ');
    return (
      <ol className="chain" aria-label={`Delegation chain: ${spoken}`}>
        {path.map((step, index) => (
          <li key={`${index}-${step.id}`} className="chain-step">
            <span className={`chain-node chain-${step.kind}`} title={step.id}><span className="visually-hidden">{step.kind}: </span>{nameOf(step.kind, step.id)}</span>
          </li>
        ))}
      </ol>
    );
  }
  const parts = [row.client_id ? nameOf('application', row.client_id) : null, row.subject && !row.subject.startsWith('client:') ? nameOf('user', row.subject) : null, row.resource ? nameOf('resource', row.resource) : null].filter(Boolean);
  return parts.length ? <span>{parts.join(' · ')}</span> : <span className="muted">—</span>;
}

function DetailDisclosure({ detail }: { detail: string }) {
  let pretty = detail;
  try { pretty = JSON.stringify(JSON.parse(detail), null, 2); } catch { /* shown as stored */ }
  return (
    <details className="audit-detail">
      <summary>Show</summary>
      <pre>{pretty}</pre>
    </details>
  );
}

const GRANTS: Record<string, string> = {
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer': 'JWT bearer',
  'urn:openid:params:grant-type:ciba': 'CIBA',
  'urn:latchkey:params:oauth:grant-type:api-key': 'API key',
};
const shortGrant = (grantType: string): string => GRANTS[grantType] ?? grantType.replace(/_/g, ' ');
