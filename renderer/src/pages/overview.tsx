// Overview: what is happening now. Agents active in the last minutes and the recent issuances (from the
// audit log, live), approvals waiting for you (live), and anything that needs attention.
import { useCallback, useMemo, useState } from 'react';
import type { ApplicationView, ApprovalView, AuditRecordView, StatusView } from '../../../shared/admin-api.js';
import { api, ApiError } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner } from '../components/error-banner.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { href } from '../router.js';
import { useEventStream } from '../use-event-stream.js';
import { useRequest } from '../use-request.js';

/** An agent counts as active when it was issued something this recently. */
const ACTIVE_MS = 15 * 60_000;
const RECENT = 10;
const ISSUANCE_EVENTS = new Set(['token.issued', 'secret.released']);

/** Providers arrive with brokered access; until then (404) there are none to reconnect. */
interface ProviderSummary { id: string; name: string; status: string; attention: string | null }

export default function Overview(_props: PageProps) {
  const status = useRequest(() => api.get<StatusView>('/status'));
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const providers = useRequest(() => api.get<ProviderSummary[]>('/providers').catch((caught: unknown) => {
    if (caught instanceof ApiError && caught.status === 404) return [];
    throw caught;
  }));
  const issuances = useRequest(loadIssuances);
  const approvals = useRequest(() => api.get<ApprovalView[]>('/approvals'));
  const [now, setNow] = useState(() => Date.now());

  const onAudit = useCallback((row: AuditRecordView) => {
    if (row.event === 'vault.locked' || row.event.startsWith('vault.')) void status.reload();
    if (row.event.startsWith('approval.')) void approvals.reload();
    if (!ISSUANCE_EVENTS.has(row.event) || row.decision !== 'allow') return;
    issuances.set((current) => [row, ...(current ?? [])].slice(0, 200));
    setNow(Date.now());
  }, [issuances, status, approvals]);
  const auditStream = useEventStream<AuditRecordView>('/api/audit/events', 'audit', onAudit, () => { void issuances.reload(); setNow(Date.now()); });
  const onApproval = useCallback((approval: ApprovalView) => {
    approvals.set((current) => [approval, ...(current ?? []).filter((known) => known.id !== approval.id)]);
  }, [approvals]);
  useEventStream<ApprovalView>('/api/approvals/events', 'approval', onApproval, () => void approvals.reload());

  const names = useMemo(() => new Map((applications.data ?? []).map((app) => [app.client_id, app.name])), [applications.data]);
  const nameOf = (clientId: string | null) => (clientId ? names.get(clientId) ?? clientId : 'unknown');
  const active = useMemo(() => {
    const seen = new Map<string, { clientId: string; last: number; count: number }>();
    for (const row of issuances.data ?? []) {
      if (!row.client_id || now - row.at > ACTIVE_MS) continue;
      const entry = seen.get(row.client_id) ?? { clientId: row.client_id, last: row.at, count: 0 };
      entry.count += 1;
      entry.last = Math.max(entry.last, row.at);
      seen.set(row.client_id, entry);
    }
    return [...seen.values()].sort((a, b) => b.last - a.last);
  }, [issuances.data, now]);

  const attention: Array<{ key: string; text: string; link: string; label: string }> = [];
  if (status.data && status.data.vault.state !== 'unlocked') {
    attention.push({ key: 'vault', text: `The vault is ${status.data.vault.state}: nothing that needs it is issued. ${status.data.vault.message ?? ''}`, link: '/settings', label: 'Vault settings' });
  }
  if (status.data && !status.data.owner) attention.push({ key: 'owner', text: 'There is no owner yet.', link: '/setup', label: 'First-run setup' });
  for (const provider of providers.data ?? []) {
    if (provider.status === 'needs_attention') attention.push({ key: provider.id, text: `${provider.name} needs to be reconnected${provider.attention ? `: ${provider.attention}` : ''}.`, link: '/resources', label: 'Reconnect' });
  }

  const error = status.error ?? applications.error ?? issuances.error ?? approvals.error ?? providers.error;
  return (
    <>
      <PageHeader title="Overview" description={<>What your agents are doing. {auditStream === 'open' ? <span className="badge badge-ok">live</span> : <span className="badge">reconnecting…</span>}</>} />
      <ErrorBanner message={error?.message} />

      <section aria-labelledby="attention-heading" className="card">
        <h2 id="attention-heading">Needs attention</h2>
        {attention.length === 0 ? <p>Nothing needs your attention.</p> : (
          <ul>{attention.map((item) => <li key={item.key}>{item.text} <a href={href(item.link)}>{item.label}</a></li>)}</ul>
        )}
      </section>

      <div className="cards">
        <section aria-labelledby="active-heading" className="card">
          <h2 id="active-heading">Agents active now</h2>
          <p className="stat">{active.length}</p>
          <p className="muted">issued a credential in the last {ACTIVE_MS / 60_000} minutes</p>
          {active.length ? <ul>{active.map((entry) => <li key={entry.clientId}>{nameOf(entry.clientId)} ({entry.count})</li>)}</ul> : null}
        </section>
        <section aria-labelledby="approvals-heading" className="card">
          <h2 id="approvals-heading">Pending approvals</h2>
          <p className="stat">{approvals.data?.length ?? '…'}</p>
          {approvals.data?.length ? (
            <>
              <ul>{approvals.data.slice(0, 5).map((approval) => <li key={approval.id}>{approval.application} asks for {approval.scopes.join(' ') || 'access'}{approval.binding_message ? ` (“${approval.binding_message}”)` : ''}</li>)}</ul>
              <a href={href('/consents')}>Answer them</a>
            </>
          ) : <p className="muted">No agent is waiting for you.</p>}
        </section>
      </div>

      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent issuances</h2>
        {issuances.data && issuances.data.length === 0 ? (
          <EmptyState title="Nothing issued yet">When an agent gets a token or a vaulted secret, it shows here. <a href={href('/setup')}>First-run setup</a> shows how an agent asks.</EmptyState>
        ) : null}
        {issuances.data && issuances.data.length > 0 ? (
          <DataTable caption="Recent issuances" rows={issuances.data.slice(0, RECENT)} rowKey={(row) => String(row.seq)} columns={[
            { header: 'When', cell: (row) => <time dateTime={new Date(row.at).toISOString()}>{new Date(row.at).toLocaleTimeString()}</time> },
            { header: 'Application', cell: (row) => nameOf(row.client_id) },
            { header: 'Resource', cell: (row) => <code>{row.resource}</code> },
            { header: 'What', cell: (row) => (row.event === 'secret.released' ? 'vaulted secret' : 'token') },
            { header: 'Grant', cell: (row) => row.grant_type ?? '', secondary: true },
          ]} />
        ) : null}
        <p><a href={href('/audit')}>The whole audit log</a></p>
      </section>
    </>
  );
}

/** The latest issuances, tokens and released secrets together, newest first. */
async function loadIssuances(): Promise<AuditRecordView[]> {
  const [tokens, secrets] = await Promise.all([
    api.get<AuditRecordView[]>('/audit?event=token.issued&decision=allow&limit=200'),
    api.get<AuditRecordView[]>('/audit?event=secret.released&decision=allow&limit=200'),
  ]);
  return [...tokens, ...secrets].sort((a, b) => b.seq - a.seq).slice(0, 200);
}
