// Settings: where this broker runs, the owner passphrase (set or change), its signing keys (rotation), the vault (lock, unlock), signing out.
import { useState, type FormEvent } from 'react';
import type { SigningKeyView, StatusView, VaultStatus } from '../../../shared/admin-api.js';
import { api } from '../api.js';
import { ConfirmDialog, Dialog } from '../components/confirm-dialog.js';
import { CopyButton } from '../components/copy-button.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { loadOwner, OwnerPassphraseForm, PASSPHRASE_PROTECTS } from '../components/owner-passphrase-form.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { messageOf, useRequest } from '../use-request.js';

export default function Settings({ session }: PageProps) {
  const status = useRequest(() => api.get<StatusView>('/status'));
  const keys = useRequest(() => api.get<SigningKeyView[]>('/keys'));
  const [confirm, setConfirm] = useState<'rotate' | 'lock' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setNotice(await work());
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };
  const rotate = () => act(async () => {
    const result = await api.post<{ kid: string; retired: string | null }>('/keys/rotate');
    await keys.reload();
    return `New signing key ${result.kid}. The old one stays published until the tokens it signed expire.`;
  });
  const lock = () => act(async () => {
    const vault = await api.post<VaultStatus>('/vault/lock');
    status.set((current) => (current ? { ...current, vault } : current));
    return 'The vault is locked: nothing that needs it is issued until it is unlocked.';
  });
  const setVault = (vault: VaultStatus) => status.set((current) => (current ? { ...current, vault } : current));
  const signOut = async () => {
    try {
      await api.post('/session/logout');
    } finally {
      window.location.reload();
    }
  };

  const view = status.data;
  const live = (keys.data ?? []).filter((key) => key.retired_at === null);
  const retired = (keys.data ?? []).filter((key) => key.retired_at !== null);
  return (
    <>
      <PageHeader title="Settings" />
      <ErrorBanner message={error ?? status.error?.message ?? keys.error?.message} />
      {notice ? <Notice>{notice}</Notice> : null}

      <section className="card" aria-labelledby="settings-broker">
        <h2 id="settings-broker">This broker</h2>
        {view ? (
          <dl className="facts">
            <dt>Issuer</dt><dd><code>{view.issuer}</code> <CopyButton value={view.issuer} label="issuer URL" /></dd>
            <dt>Port</dt><dd>{view.port ?? 'unknown'}</dd>
            <dt>Local socket</dt><dd>{view.socket ? <code>{view.socket}</code> : 'not served'}</dd>
            <dt>Data directory</dt><dd>{view.data_dir ? <code>{view.data_dir}</code> : 'unknown'}</dd>
          </dl>
        ) : <p role="status">Loading…</p>}
        <p className="muted">Change them by starting Latchkey with <code>--port</code>, <code>--socket</code> or <code>--data-dir</code> (or <code>LATCHKEY_DATA_DIR</code>).</p>
      </section>

      <section className="card" aria-labelledby="settings-passphrase">
        <h2 id="settings-passphrase">Owner presence</h2>
        <OwnerPassphrasePanel />
      </section>

      <section className="card" aria-labelledby="settings-vault">
        <h2 id="settings-vault">Vault</h2>
        {view ? <VaultPanel vault={view.vault} busy={busy} onLock={() => setConfirm('lock')} onUnlocked={setVault} /> : null}
      </section>

      <section className="card" aria-labelledby="settings-keys">
        <h2 id="settings-keys">Signing keys</h2>
        <p className="muted">Tokens are signed with these keys; resource servers check them against the published JWKS. Rotate to start signing with a new key.</p>
        {keys.data ? (
          <DataTable caption="Signing keys" rows={[...live, ...retired]} rowKey={(key) => key.kid} columns={[
            { header: 'Key id', cell: (key) => <code>{key.kid}</code> },
            { header: 'Use', cell: (key) => `${key.purpose.replace('_', ' ')} (${key.alg})` },
            { header: 'Created', cell: (key) => new Date(key.created_at).toLocaleString(), secondary: true },
            { header: 'State', cell: (key) => (key.retired_at === null ? <span className="badge badge-ok">signing</span> : <span className="badge">retired{key.publish_until ? `, published until ${new Date(key.publish_until).toLocaleString()}` : ''}</span>) },
          ]} />
        ) : null}
        <div className="button-row"><button type="button" className="button-secondary" disabled={busy} onClick={() => setConfirm('rotate')}>Rotate the access-token key</button></div>
      </section>

      <section className="card" aria-labelledby="settings-session">
        <h2 id="settings-session">Your session</h2>
        {session.started_at !== null ? (
          <>
            <p>Signed in as {session.user ? <strong>{session.user.name} ({session.user.email})</strong> : 'the first-run session'} since {new Date(session.started_at).toLocaleString()}.</p>
            <button type="button" className="button-secondary" onClick={() => void signOut()}>Sign out</button>
          </>
        ) : <p>The desktop app speaks to Latchkey directly{session.user ? <> for <strong>{session.user.name} ({session.user.email})</strong></> : null}: there is no browser session to sign out of.</p>}
      </section>

      <ConfirmDialog open={confirm === 'rotate'} title="Rotate the signing key?" confirmLabel="Rotate" busy={busy} onCancel={() => setConfirm(null)} onConfirm={() => void rotate()}>
        <p>New tokens are signed with a new key. Tokens already issued stay valid: the old key is published until they expire.</p>
      </ConfirmDialog>
      <ConfirmDialog open={confirm === 'lock'} title="Lock the vault?" confirmLabel="Lock the vault" busy={busy} onCancel={() => setConfirm(null)} onConfirm={() => void lock()}>
        <p>Until it is unlocked, Latchkey issues no token and releases no secret: every agent is refused.</p>
      </ConfirmDialog>
    </>
  );
}

/** Whether the owner passphrase is set, and a dialog to set or change it. */
function OwnerPassphrasePanel() {
  const owner = useRequest(loadOwner);
  const [open, setOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  if (!owner.data) return <ErrorBanner message={owner.error?.message} onRetry={() => void owner.reload()} />;
  const set = owner.data.passphrase_set;
  const title = set ? 'Change the owner passphrase' : 'Set the owner passphrase';
  return (
    <>
      <p>{set ? <span className="badge badge-ok">passphrase set</span> : <span className="badge badge-warn">no passphrase</span>} {PASSPHRASE_PROTECTS}</p>
      {set ? null : <p className="banner banner-warn">Until you set one, an agent holding the admin token can approve its own requests.</p>}
      {notice ? <Notice>{notice}</Notice> : null}
      <button type="button" className={set ? 'button-secondary' : undefined} onClick={() => { setNotice(null); setOpen(true); }}>{title}</button>
      {/* Mounted only while open: a closed <dialog> still carries its title as a label. */}
      {open ? <Dialog open title={title} onClose={() => setOpen(false)}>
        <OwnerPassphraseForm passphraseSet={set} onCancel={() => setOpen(false)} onDone={() => {
          setOpen(false);
          setNotice(set ? 'Owner passphrase changed.' : 'Owner passphrase set: Latchkey asks for it before anything that gives agents more.');
          void owner.reload();
        }} />
      </Dialog> : null}
    </>
  );
}

function VaultPanel({ vault, busy, onLock, onUnlocked }: { vault: VaultStatus; busy: boolean; onLock: () => void; onUnlocked: (vault: VaultStatus) => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const unlock = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      onUnlocked(await api.post<VaultStatus>('/vault/unlock', vault.backend === 'keychain' ? {} : { passphrase }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setPassphrase('');
    }
  };
  if (vault.state === 'unlocked') {
    return (
      <>
        <p><span className="badge badge-ok">unlocked</span> Its key is {vault.backend === 'keychain' ? 'in the OS keychain' : 'protected by your passphrase'}.</p>
        {vault.message ? <p className="banner banner-warn">{vault.message}</p> : null}
        <button type="button" className="button-danger" disabled={busy} onClick={onLock}>Lock the vault</button>
      </>
    );
  }
  return (
    <form onSubmit={(event) => void unlock(event)}>
      <p><span className="badge badge-danger">{vault.state}</span> {vault.message}</p>
      {vault.backend !== 'keychain' ? (
        <Field label="Passphrase" error={error}>{(control) => <input {...control} type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} required autoComplete="current-password" />}</Field>
      ) : <ErrorBanner message={error} />}
      <button type="submit">Unlock</button>
    </form>
  );
}
