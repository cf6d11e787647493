// Overview: what is happening now. The "pause all agents" brake, agents active in the last minutes and the
// recent issuances (from the audit log, live), approvals waiting for you (live), and anything that needs
// attention: a locked vault, a provider account to reconnect, a signing key due for rotation, no owner
// passphrase yet, wrong owner passphrases ("someone tried to act as you").
import { useCallback, useMemo, useState } from 'react';
import type { ApplicationView, ApprovalView, AuditRecordView, OwnerView, ProviderView, SigningKeyView, StatusView } from '../../../shared/admin-api.js';
import { refreshAgentPause, setAgentsPaused, useAgentPause } from '../agent-pause.js';
import { api } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { loadOwner } from '../components/owner-passphrase-form.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { connectNotice, connectProvider } from '../provider-connect.js';
import { href } from '../router.js';
import { formatTime } from '../time.js';
import { useEventStream } from '../use-event-stream.js';
import { messageOf, useRequest } from '../use-request.js';

/** An agent counts as active when it was issued something this recently. */
const ACTIVE_MS = 15 * 60_000;
const RECENT = 10;
const ISSUANCE_EVENTS = new Set(['token.issued', 'secret.released', 'brokered.released']);
const WHAT: Record<string, string> = { 'token.issued': 'token', 'secret.released': 'vaulted secret', 'brokered.released': 'upstream token' };

/** A signing key still signing after this long is flagged for rotation (keys do not expire by themselves). */
const KEY_ROTATION_DAYS = 180;
const DAY_MS = 86_400_000;

/**
 * The access-token signing key, when it is worth the owner's attention: none active, or signing for longer
 * than the rotation period. Only that key is flagged: it is the one Settings (`POST /api/keys/rotate`) rotates.
 */
function keyAttention(keys: SigningKeyView[], now: number): string[] {
  const mine = keys.filter((key) => key.purpose === 'access_token');
  if (mine.length === 0) return [];
  const active = mine.filter((key) => key.retired_at === null);
  if (active.length === 0) return ['No access token signing key is active: no token is signed until the key is rotated.'];
  const days = Math.floor((now - Math.max(...active.map((key) => key.created_at))) / DAY_MS);
  return days >= KEY_ROTATION_DAYS ? [`The access token signing key was last rotated ${days} days ago.`] : [];
}

/** Wrong owner passphrases since the last right one, typed by someone ("someone tried to act as you"). */
function failedPresence(owner: OwnerView, now: number): string | null {
  if (owner.failed_attempts === 0) return null;
  const locked = owner.locked_until !== null && Date.parse(owner.locked_until) > now ? ` Confirming it's you is locked until ${formatTime(owner.locked_until)}.` : '';
  const wrong = owner.failed_attempts === 1 ? '1 wrong passphrase' : `${owner.failed_attempts} wrong passphrases`;
  return `Someone tried to act as you: ${wrong}, last at ${formatTime(owner.last_failed_at)}.${locked}`;
}

export default function Overview(_props: PageProps) {
  const status = useRequest(() => api.get<StatusView>('/status'));
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const providers = useRequest(() => api.get<ProviderView[]>('/providers'));
  const keys = useRequest(() => api.get<SigningKeyView[]>('/keys'));
  const owner = useRequest(loadOwner);
  const paused = useAgentPause();
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<string | null>) => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      setNotice(await work());
    } catch (caught) {
      setActionError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  // The switch is never disabled while busy (that would drop keyboard focus): a press meanwhile is ignored.
  const togglePause = () => act(async () => ((await setAgentsPaused(!paused))
    ? 'All agents are paused: every request for a credential is refused until you resume.'
    : 'Agents are running again.'));
  const reconnect = (provider: ProviderView) => act(async () => {
    await connectProvider(provider);
    return connectNotice(provider);
  });
  const issuances = useRequest(loadIssuances);
  const approvals = useRequest(() => api.get<ApprovalView[]>('/approvals'));
  const [now, setNow] = useState(() => Date.now());

  const onAudit = useCallback((row: AuditRecordView) => {
    if (row.event === 'vault.locked' || row.event.startsWith('vault.')) void status.reload();
    if (row.event.startsWith('provider.')) void providers.reload();
    if (row.event === 'agents.paused' || row.event === 'agents.resumed') refreshAgentPause().catch(() => undefined);
    if (row.event.startsWith('approval.')) void approvals.reload();
    if (row.event.startsWith('owner.')) void owner.reload();
    if (!ISSUANCE_EVENTS.has(row.event) || row.decision !== 'allow') return;
    issuances.set((current) => [row, ...(current ?? [])].slice(0, 200));
    setNow(Date.now());
  }, [issuances, status, approvals, providers, owner]);
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

  type Attention = { key: string; text: string; link: string; label: string } | { key: string; text: string; provider: ProviderView };
  const attention: Attention[] = [];
  if (status.data && status.data.vault.state !== 'unlocked') {
    attention.push({ key: 'vault', text: `The vault is ${status.data.vault.state}: nothing that needs it is issued. ${status.data.vault.message ?? ''}`, link: '/settings', label: 'Vault settings' });
  }
  if (status.data && !status.data.owner) attention.push({ key: 'owner', text: 'There is no owner yet.', link: '/setup', label: 'First-run setup' });
  const tried = owner.data ? failedPresence(owner.data, now) : null;
  if (tried) attention.push({ key: 'failed-presence', text: tried, link: '/audit', label: 'Audit log' });
  for (const provider of providers.data ?? []) {
    // `attention` is the broker's own words (e.g. "the upstream refresh token was revoked"), shown as text.
    if (provider.status === 'needs_attention') attention.push({ key: provider.id, text: `Your ${provider.name} account needs to be reconnected${provider.attention ? `: ${provider.attention}` : ''}.`, provider });
  }
  keyAttention(keys.data ?? [], now).forEach((text, index) => attention.push({ key: `key-${index}`, text: `${text} Rotate it so a leaked key stops being useful.`, link: '/settings', label: 'Signing keys' }));

  const error = status.error ?? applications.error ?? issuances.error ?? approvals.error ?? providers.error ?? keys.error ?? owner.error;
  return (
    <>
      <PageHeader title="Overview" description={<>What your agents are doing. {auditStream === 'open' ? <span className="badge badge-ok">live</span> : <span className="badge">reconnecting…</span>}</>} />
      <ErrorBanner message={error?.message ?? actionError} />
      {notice ? <Notice>{notice}</Notice> : null}
      {/* Above everything else: until it is set, the brakes below are all an agent cannot undo. */}
      {owner.data && !owner.data.passphrase_set ? (
        <div className="banner banner-warn" role="note">
          <p><strong>Set an owner passphrase:</strong> until then an agent holding the admin token can approve its own requests. <a href={href('/settings')}>Set it in Settings</a></p>
        </div>
      ) : null}

      <section aria-labelledby="brakes-heading" className={paused ? 'card card-paused' : 'card'}>
        <h2 id="brakes-heading">Brakes</h2>
        <div className="brakes">
          <p>{paused
            ? <><strong>All agents are paused.</strong> Every request for a token or a secret is refused until you resume them.</>
            : 'If an agent misbehaves, pause them all: nothing is issued to any agent until you resume.'}</p>
          <button type="button" role="switch" aria-checked={paused === true} className={paused ? 'switch' : 'switch button-secondary'} disabled={paused === null} aria-disabled={busy} onClick={() => { if (!busy) void togglePause(); }}>
            <span className="switch-track" aria-hidden="true" /> Pause all agents
          </button>
        </div>
        <p className="muted">To lock the vault as well, see <a href={href('/settings')}>Settings</a>.</p>
      </section>

      <section aria-labelledby="attention-heading" className="card">
        <h2 id="attention-heading">Needs attention</h2>
        {attention.length === 0 ? <p>Nothing needs your attention.</p> : (
          <ul className="attention-list">{attention.map((item) => (
            <li key={item.key}>
              {item.text}{' '}
              {'provider' in item
                ? <button type="button" className="button-secondary" disabled={busy} onClick={() => void reconnect(item.provider)} aria-label={`Reconnect ${item.provider.name}`}>Reconnect</button>
                : <a href={href(item.link)}>{item.label}</a>}
            </li>
          ))}</ul>
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
            { header: 'What', cell: (row) => WHAT[row.event] ?? row.event },
            { header: 'Grant', cell: (row) => row.grant_type ?? '', secondary: true },
          ]} />
        ) : null}
        <p><a href={href('/audit')}>The whole audit log</a></p>
      </section>
    </>
  );
}

/** The latest issuances (tokens, released secrets, upstream tokens) together, newest first. */
async function loadIssuances(): Promise<AuditRecordView[]> {
  const lists = await Promise.all([...ISSUANCE_EVENTS].map((event) => api.get<AuditRecordView[]>(`/audit?event=${event}&decision=allow&limit=200`)));
  return lists.flat().sort((a, b) => b.seq - a.seq).slice(0, 200);
}
