// Consents & approvals: agents waiting for the user's answer (CIBA), live; what the user has granted
// (consents, remembered approvals, background-access grants), each revocable.
import { useCallback, useEffect, useState } from 'react';
import type { ApprovalView, ConsentView } from '../../../shared/admin-api.js';
import { api, segment } from '../api.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { formatTime } from '../time.js';
import { useEventStream } from '../use-event-stream.js';
import { messageOf, useRequest } from '../use-request.js';

/** "Remember for …": how long an approval keeps answering the same request by itself. */
const REMEMBER: ReadonlyArray<[string, number | null]> = [
  ['Just this once', null],
  ['1 hour', 3_600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
  ['30 days', 30 * 86_400],
];

/** Answers given elsewhere (the CLI) and expiries are not announced: look again now and then. */
const RELOAD_EVERY_MS = 15_000;

export default function Page({ session }: PageProps) {
  const approvals = useRequest(() => api.get<ApprovalView[]>('/approvals'));
  const [showWithdrawn, setShowWithdrawn] = useState(false);
  const consents = useRequest(() => api.get<ConsentView[]>(`/consents${showWithdrawn ? '?include_revoked=true' : ''}`), [showWithdrawn]);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const onApproval = useCallback((approval: ApprovalView) => {
    approvals.set([...(approvals.data ?? []).filter((entry) => entry.id !== approval.id), approval]);
  }, [approvals]);
  const live = useEventStream<ApprovalView>('/api/approvals/events', 'approval', onApproval, () => void approvals.reload());
  useEffect(() => {
    const timer = setInterval(() => { setNow(Date.now()); void approvals.reload(); }, RELOAD_EVERY_MS);
    return () => clearInterval(timer);
  }, [approvals.reload]);

  const userName = (id: string) => (session.user && session.user.id === id ? session.user.name : id);
  const pending = (approvals.data ?? []).filter((approval) => Date.parse(approval.expires_at) > now);
  const interactive = (consents.data ?? []).filter((consent) => !consent.background);
  const background = (consents.data ?? []).filter((consent) => consent.background);

  return (
    <>
      <PageHeader title="Consents & approvals" description="What agents wait for, and what you have granted." />
      {notice ? <Notice>{notice}</Notice> : null}

      <section aria-labelledby="pending-heading">
        <h2 id="pending-heading">Waiting for you <span className={live === 'open' ? 'badge badge-ok' : 'badge'}>{live === 'open' ? 'live' : 'reconnecting…'}</span></h2>
        <ErrorBanner message={approvals.error?.message} onRetry={() => void approvals.reload()} />
        {approvals.data && pending.length === 0 ? (
          <EmptyState title="No agent is waiting for your approval">
            When an agent without a browser asks to act for you (CIBA), its request appears here at once.
          </EmptyState>
        ) : null}
        <div className="approval-list">
          {pending.map((approval) => (
            <ApprovalCard key={approval.id} approval={approval} userName={userName(approval.user_id)}
              onAnswered={(message) => { setNotice(message); approvals.set((approvals.data ?? []).filter((entry) => entry.id !== approval.id)); void consents.reload(); }}
              onGone={() => void approvals.reload()} />
          ))}
        </div>
      </section>

      <section aria-labelledby="consents-heading">
        <div className="section-header">
          <h2 id="consents-heading">Granted</h2>
          <label className="checkbox"><input type="checkbox" checked={showWithdrawn} onChange={(event) => setShowWithdrawn(event.target.checked)} /> Show withdrawn</label>
        </div>
        <ErrorBanner message={consents.error?.message} onRetry={() => void consents.reload()} />
        {consents.data && interactive.length === 0 ? (
          <EmptyState title="No consents">An application you allow on the consent page, or whose approval you remember, is listed here.</EmptyState>
        ) : null}
        {interactive.length > 0 ? (
          <ConsentTable caption="Consents" consents={interactive} userName={userName} onRevoked={(message) => { setNotice(message); void consents.reload(); }} />
        ) : null}

        <h3>Background access</h3>
        <p className="muted">Applications you let act for you while you are away (impersonation over the local socket).</p>
        {consents.data && background.length === 0 ? (
          <EmptyState title="No background-access grants">Grant one with <code>latchkey consent grant --background</code>; it is listed here to revoke.</EmptyState>
        ) : null}
        {background.length > 0 ? (
          <ConsentTable caption="Background-access grants" consents={background} userName={userName} onRevoked={(message) => { setNotice(message); void consents.reload(); }} />
        ) : null}
      </section>
    </>
  );
}

function ApprovalCard({ approval, userName, onAnswered, onGone }: { approval: ApprovalView; userName: string; onAnswered: (message: string) => void; onGone: () => void }) {
  const [remember, setRemember] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rememberSeconds = REMEMBER[Number(remember)]?.[1] ?? null;

  const answer = async (how: 'approve' | 'deny') => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/approvals/${segment(approval.id)}/${how}`, how === 'approve' && rememberSeconds ? { remember_seconds: rememberSeconds } : {});
      onAnswered(how === 'approve'
        ? `Approved ${approval.application}${rememberSeconds ? `, remembered for ${REMEMBER[Number(remember)]![0]}` : ''}.`
        : `Denied ${approval.application}.`);
    } catch (caught) {
      setError(messageOf(caught));
      onGone();
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card approval-card" aria-label={`Approval request from ${approval.application}`}>
      <h3>{approval.application} <span className="muted">asks to act for {userName}</span></h3>
      <ErrorBanner message={error} />
      {approval.binding_message ? (
        <p className="binding-message">Message from the agent: <q>{approval.binding_message}</q> <span className="muted">(check it matches what the agent shows you)</span></p>
      ) : null}
      <dl className="facts">
        <dt>Application</dt><dd><code>{approval.client_id}</code></dd>
        <dt>Resources</dt><dd>{approval.resources.map((resource) => <code key={resource} className="chip">{resource}</code>)}</dd>
        <dt>Scopes</dt><dd>{approval.scopes.length ? approval.scopes.join(' ') : <span className="muted">none</span>}</dd>
        <dt>Asked</dt><dd>{formatTime(approval.created_at)}</dd>
        <dt>Expires</dt><dd>{formatTime(approval.expires_at)}</dd>
      </dl>
      <div className="approval-actions">
        <Field label="Remember for" hint="Answer the same request from this application by itself for this long.">
          {(control) => (
            <select {...control} value={remember} onChange={(event) => setRemember(event.target.value)}>
              {REMEMBER.map(([label], index) => <option key={label} value={String(index)}>{label}</option>)}
            </select>
          )}
        </Field>
        <div className="button-row">
          <button type="button" className="button-secondary" disabled={busy} onClick={() => void answer('deny')}>Deny</button>
          <button type="button" disabled={busy} onClick={() => void answer('approve')}>Approve</button>
        </div>
      </div>
    </article>
  );
}

function ConsentTable({ caption, consents, userName, onRevoked }: { caption: string; consents: ConsentView[]; userName: (id: string) => string; onRevoked: (message: string) => void }) {
  const [revoking, setRevoking] = useState<ConsentView | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const revoke = async (consent: ConsentView) => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/consents/${segment(consent.id)}/revoke`, {});
      setRevoking(null);
      onRevoked(`Withdrawn: ${consent.application ?? consent.client_id} no longer has this ${consent.background ? 'background access' : 'consent'}, and its tokens are revoked.`);
    } catch (caught) {
      setError(messageOf(caught));
      setRevoking(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <ErrorBanner message={error} />
      <DataTable
        caption={caption}
        rows={consents}
        rowKey={(consent) => consent.id}
        columns={[
          {
            header: 'Application',
            cell: (consent) => (
              <>
                <strong>{consent.application ?? consent.client_id}</strong>
                {consent.registration === 'dynamic' ? <> <span className="badge badge-warn" title="It registered itself: its name is its own claim">unverified</span></> : null}
              </>
            ),
          },
          { header: 'User', cell: (consent) => userName(consent.user_id) },
          { header: 'Resources', cell: (consent) => consent.resources.map((resource) => <code key={resource} className="chip">{resource}</code>) },
          { header: 'Scopes', secondary: true, cell: (consent) => consent.scopes.join(' ') || <span className="muted">none</span> },
          {
            header: 'Kind',
            cell: (consent) => consent.background ? 'Background access'
              : consent.remembered ? (consent.remembered_until ? `Remembered until ${formatTime(consent.remembered_until)}` : 'Remembered') : 'Consent',
          },
          { header: 'Granted', secondary: true, cell: (consent) => formatTime(consent.created_at) },
          {
            header: 'Actions',
            cell: (consent) => consent.revoked_at
              ? <span className="muted">withdrawn {formatTime(consent.revoked_at)}</span>
              : <button type="button" className="button-secondary" onClick={() => setRevoking(consent)} aria-label={`Revoke ${consent.application ?? consent.client_id}`}>Revoke</button>,
          },
        ]}
      />
      <ConfirmDialog open={revoking !== null} title="Revoke this grant?" confirmLabel="Revoke" busy={busy}
        onConfirm={() => { if (revoking) void revoke(revoking); }} onCancel={() => setRevoking(null)}>
        <p>{revoking?.application ?? revoking?.client_id} loses what you granted at once: its tokens under this grant stop working, and it has to ask again.</p>
      </ConfirmDialog>
    </>
  );
}
