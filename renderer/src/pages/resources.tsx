// Resources & providers: what agents reach (each with its credential type) and the upstream providers
// Latchkey connects the owner's accounts to. A vaulted secret is only ever sent, never shown back: the
// view says whether one is set and when.
import { useCallback, useState, type FormEvent } from 'react';
import type { ApplicationView, AuditRecordView, CreateResourceRequest, ProviderView, ResourceView } from '../../../shared/admin-api.js';
import { CREDENTIAL_TYPES, type CredentialType } from '../../../shared/domain.js';
import { api, segment } from '../api.js';
import { ConfirmDialog, Dialog } from '../components/confirm-dialog.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import { CreateProviderForm } from '../components/provider-form.js';
import type { PageProps } from '../pages.js';
import { connectNotice, connectProvider } from '../provider-connect.js';
import { formatTime } from '../time.js';
import { useEventStream } from '../use-event-stream.js';
import { messageOf, useRequest } from '../use-request.js';

const CREDENTIAL_LABELS: Record<CredentialType, string> = {
  token: 'Latchkey token',
  vaulted: 'Vaulted secret',
  brokered: 'Brokered access',
};

const CREDENTIAL_HINTS: Record<CredentialType, string> = {
  token: 'Latchkey signs a short-lived access token for this resource (its audience).',
  vaulted: 'A static secret (API key, password) kept in the vault and handed to permitted agents.',
  brokered: 'An access token of an upstream provider, obtained with your connected account.',
};

const words = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

export default function Page(_props: PageProps) {
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const providers = useRequest(() => api.get<ProviderView[]>('/providers'));
  // A login finished in the provider's tab, a revocation found upstream: the account's status changes
  // without this page doing anything, and the audit log says so.
  const onAudit = useCallback((row: AuditRecordView) => {
    if (row.event.startsWith('provider.')) void providers.reload();
  }, [providers]);
  useEventStream<AuditRecordView>('/api/audit/events', 'audit', onAudit, () => void providers.reload());
  const [creating, setCreating] = useState(false);
  const [replacing, setReplacing] = useState<ResourceView | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const providerList = providers.data ?? [];

  return (
    <>
      <PageHeader
        title="Resources & providers"
        description="Resources the agents reach and the upstream providers Latchkey connects to."
        actions={<button type="button" onClick={() => { setNotice(null); setCreating(true); }}>Add resource</button>}
      />
      {notice ? <Notice>{notice}</Notice> : null}

      <section aria-labelledby="resources-heading">
        <h2 id="resources-heading">Resources</h2>
        <ErrorBanner message={resources.error?.message} onRetry={() => void resources.reload()} />
        {resources.data && resources.data.length === 0 ? (
          <EmptyState title="No resources yet" action={<button type="button" onClick={() => setCreating(true)}>Add the first resource</button>}>
            A resource is an API or MCP server an agent asks Latchkey for access to, named by its URI.
          </EmptyState>
        ) : null}
        {resources.data && resources.data.length > 0 ? (
          <DataTable
            caption="Resources"
            rows={resources.data}
            rowKey={(resource) => resource.identifier}
            columns={[
              { header: 'Name', cell: (resource) => <strong>{resource.name}</strong> },
              { header: 'Identifier', cell: (resource) => <code>{resource.identifier}</code> },
              { header: 'Credential', cell: (resource) => <CredentialCell resource={resource} providers={providerList} /> },
              { header: 'Scopes', secondary: true, cell: (resource) => resource.scopes.length ? resource.scopes.join(' ') : <span className="muted">none</span> },
              {
                header: 'Served by', secondary: true,
                cell: (resource) => resource.served_by ? (applications.data?.find((app) => app.client_id === resource.served_by)?.name ?? <code>{resource.served_by}</code>) : <span className="muted">—</span>,
              },
              { header: 'Added', secondary: true, cell: (resource) => formatTime(resource.created_at) },
              {
                header: 'Actions',
                cell: (resource) => resource.credential_type === 'vaulted'
                  ? <button type="button" className="button-secondary" onClick={() => { setNotice(null); setReplacing(resource); }} aria-label={`Replace the secret of ${resource.name}`}>Replace secret</button>
                  : null,
              },
            ]}
          />
        ) : null}
      </section>

      <ProvidersSection providers={providers.data} error={providers.error?.message} reload={providers.reload} onNotice={setNotice} />

      <CreateResourceDialog
        open={creating}
        providers={providerList}
        applications={applications.data ?? []}
        onClose={() => setCreating(false)}
        onCreated={(resource) => {
          setCreating(false);
          setNotice(resource.credential_type === 'vaulted'
            ? `Resource ${resource.name} added; its secret is sealed in the vault and will not be shown again.`
            : `Resource ${resource.name} added.`);
          void resources.reload();
        }}
      />
      <ReplaceSecretDialog
        resource={replacing}
        onClose={() => setReplacing(null)}
        onReplaced={(resource) => {
          setReplacing(null);
          setNotice(`The secret of ${resource.name} was replaced.`);
          void resources.reload();
        }}
      />
    </>
  );
}

function CredentialCell({ resource, providers }: { resource: ResourceView; providers: ProviderView[] }) {
  const type = resource.credential_type as CredentialType;
  const label = CREDENTIAL_LABELS[type] ?? resource.credential_type;
  return (
    <div className="credential-cell">
      <span className="badge">{label}</span>
      {type === 'vaulted' ? (
        resource.has_secret
          ? <span className="muted">secret set {formatTime(resource.secret_set_at ?? null)}</span>
          : <span className="badge badge-warn">no secret</span>
      ) : null}
      {type === 'brokered' && resource.provider_id ? (
        <span className="muted">via {providers.find((provider) => provider.id === resource.provider_id)?.name ?? resource.provider_id}</span>
      ) : null}
    </div>
  );
}

function CreateResourceDialog({ open, providers, applications, onClose, onCreated }: {
  open: boolean; providers: ProviderView[]; applications: ApplicationView[]; onClose: () => void; onCreated: (resource: ResourceView) => void;
}) {
  return (
    <Dialog open={open} title="Add a resource" onClose={onClose}>
      <CreateResourceForm providers={providers} applications={applications} onCancel={onClose} onCreated={onCreated} />
    </Dialog>
  );
}

function CreateResourceForm({ providers, applications, onCancel, onCreated }: {
  providers: ProviderView[]; applications: ApplicationView[]; onCancel: () => void; onCreated: (resource: ResourceView) => void;
}) {
  const [name, setName] = useState('');
  const [identifier, setIdentifier] = useState('');
  const [type, setType] = useState<CredentialType>('token');
  const [scopes, setScopes] = useState('');
  const [lifetime, setLifetime] = useState('600');
  const [secret, setSecret] = useState('');
  const [providerId, setProviderId] = useState('');
  const [upstreamScopes, setUpstreamScopes] = useState('');
  const [servedBy, setServedBy] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const brokeredAvailable = providers.length > 0;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const request: CreateResourceRequest = {
      name, identifier, scopes: words(scopes), credential_type: type,
      ...(type !== 'vaulted' ? { token_lifetime: Number(lifetime) } : {}),
      ...(servedBy ? { served_by: servedBy } : {}),
      ...(type === 'vaulted' ? { secret } : {}),
      ...(type === 'brokered' ? { provider_id: providerId, upstream_scopes: words(upstreamScopes) } : {}),
    };
    try {
      const created = await api.post<ResourceView>('/resources', request);
      // The secret leaves this component's state the moment the broker has it.
      setSecret('');
      onCreated(created);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <ErrorBanner message={error} />
      <Field label="Name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required autoComplete="off" />}</Field>
      <Field label="Identifier" hint="The resource's URI, as agents name it in resource= (no fragment).">
        {(control) => <input {...control} value={identifier} onChange={(event) => setIdentifier(event.target.value)} required placeholder="https://api.example.com/" autoComplete="off" inputMode="url" />}
      </Field>
      <fieldset>
        <legend>Credential type</legend>
        {CREDENTIAL_TYPES.map((value) => {
          const disabled = value === 'brokered' && !brokeredAvailable;
          return (
            <label key={value} className="checkbox">
              <input type="radio" name="credential_type" value={value} checked={type === value} disabled={disabled} onChange={() => setType(value)} />
              <span>{CREDENTIAL_LABELS[value]} <span className="muted">— {CREDENTIAL_HINTS[value]}</span>{disabled ? <span className="muted"> (add a provider first)</span> : null}</span>
            </label>
          );
        })}
      </fieldset>
      <Field label="Scopes" hint="Space-separated, e.g. notes:read notes:write.">
        {(control) => <input {...control} value={scopes} onChange={(event) => setScopes(event.target.value)} autoComplete="off" />}
      </Field>
      {type !== 'vaulted' ? (
        <Field label="Token lifetime (seconds)" hint="30 to 86400.">
          {(control) => <input {...control} type="number" min={30} max={86_400} value={lifetime} onChange={(event) => setLifetime(event.target.value)} />}
        </Field>
      ) : null}
      {applications.length ? (
        <Field label="Served by (optional)" hint="The application behind this resource: it may exchange the tokens it receives for the resources it calls next.">
          {(control) => (
            <select {...control} value={servedBy} onChange={(event) => setServedBy(event.target.value)}>
              <option value="">No application</option>
              {applications.map((app) => <option key={app.client_id} value={app.client_id}>{app.name}</option>)}
            </select>
          )}
        </Field>
      ) : null}
      {type === 'vaulted' ? (
        <Field label="Secret" hint="Sealed in the vault. It is never shown again, here or anywhere; replace it to change it.">
          {(control) => <input {...control} type="password" value={secret} onChange={(event) => setSecret(event.target.value)} required autoComplete="new-password" spellCheck={false} />}
        </Field>
      ) : null}
      {type === 'brokered' ? (
        <>
          <Field label="Provider">
            {(control) => (
              <select {...control} value={providerId} onChange={(event) => setProviderId(event.target.value)} required>
                <option value="">Choose a provider…</option>
                {providers.map((provider) => <option key={provider.id} value={provider.id}>{provider.name}</option>)}
              </select>
            )}
          </Field>
          <Field label="Upstream scopes" hint="What Latchkey asks the provider for, space-separated.">
            {(control) => <input {...control} value={upstreamScopes} onChange={(event) => setUpstreamScopes(event.target.value)} autoComplete="off" />}
          </Field>
        </>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>Cancel</button>
        <button type="submit" disabled={busy}>Add resource</button>
      </div>
    </form>
  );
}

function ReplaceSecretDialog({ resource, onClose, onReplaced }: { resource: ResourceView | null; onClose: () => void; onReplaced: (resource: ResourceView) => void }) {
  return (
    <Dialog open={resource !== null} title={resource ? `Replace the secret of ${resource.name}` : 'Replace the secret'} onClose={onClose}>
      {resource ? <ReplaceSecretForm resource={resource} onCancel={onClose} onReplaced={onReplaced} /> : null}
    </Dialog>
  );
}

function ReplaceSecretForm({ resource, onCancel, onReplaced }: { resource: ResourceView; onCancel: () => void; onReplaced: (resource: ResourceView) => void }) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const replaced = await api.post<ResourceView>('/resources/secret', { identifier: resource.identifier, secret });
      setSecret('');
      onReplaced(replaced);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <ErrorBanner message={error} />
      <p className="muted">The old secret is replaced at once; agents get the new one from their next request. Neither is ever shown.</p>
      <Field label="New secret">
        {(control) => <input {...control} type="password" value={secret} onChange={(event) => setSecret(event.target.value)} required autoComplete="new-password" spellCheck={false} />}
      </Field>
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>Cancel</button>
        <button type="submit" disabled={busy || secret.length === 0}>Replace secret</button>
      </div>
    </form>
  );
}

const STATUS: Record<ProviderView['status'], { label: string; badge: string }> = {
  connected: { label: 'Connected', badge: 'badge badge-ok' },
  needs_attention: { label: 'Needs attention', badge: 'badge badge-warn' },
  not_connected: { label: 'Not connected', badge: 'badge' },
};

function ProvidersSection({ providers, error, reload, onNotice }: { providers: ProviderView[] | undefined; error: string | undefined; reload: () => Promise<void>; onNotice: (notice: string) => void }) {
  const [adding, setAdding] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ProviderView | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await work();
    } catch (caught) {
      setActionError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const connect = (provider: ProviderView) => act(async () => {
    await connectProvider(provider);
    onNotice(connectNotice(provider));
  });
  const disconnect = (provider: ProviderView) => act(async () => {
    await api.post(`/providers/${segment(provider.id)}/disconnect`, {});
    onNotice(`${provider.name} is disconnected.`);
    await reload();
  });
  const remove = (provider: ProviderView) => act(async () => {
    await api.delete(`/providers/${segment(provider.id)}`);
    setDeleting(null);
    onNotice(`Provider ${provider.name} removed.`);
    await reload();
  });

  return (
    <section aria-labelledby="providers-heading">
      <div className="section-header">
        <h2 id="providers-heading">Providers</h2>
        <button type="button" className="button-secondary" onClick={() => setAdding(true)}>Add provider</button>
      </div>
      <ErrorBanner message={error} onRetry={() => void reload()} />
      <ErrorBanner message={actionError} />
      {providers && providers.length === 0 ? (
        <EmptyState title="No providers yet" action={<button type="button" onClick={() => setAdding(true)}>Add the first provider</button>}>
          A provider is an upstream OAuth or OpenID server (GitHub, Google…). Connect your account once; agents then get its tokens through Latchkey without ever holding your login.
        </EmptyState>
      ) : null}
      {providers && providers.length > 0 ? (
        <DataTable
          caption="Providers"
          rows={providers}
          rowKey={(provider) => provider.id}
          columns={[
            { header: 'Name', cell: (provider) => <strong>{provider.name}</strong> },
            {
              header: 'Status',
              cell: (provider) => (
                <>
                  <span className={STATUS[provider.status].badge}>{STATUS[provider.status].label}</span>
                  {provider.attention ? <p className="cell-note">{provider.attention}</p> : null}
                  {provider.connected_at ? <p className="cell-note muted">since {formatTime(provider.connected_at)}</p> : null}
                </>
              ),
            },
            { header: 'Issuer', secondary: true, cell: (provider) => provider.issuer ? <code>{provider.issuer}</code> : <span className="muted">endpoints given</span> },
            { header: 'Client', secondary: true, cell: (provider) => <><code>{provider.client_id}</code>{provider.has_client_secret ? <span className="muted"> (secret in the vault)</span> : null}</> },
            {
              header: 'Actions',
              cell: (provider) => (
                <div className="button-row compact">
                  {provider.status !== 'connected'
                    ? <button type="button" disabled={busy} onClick={() => void connect(provider)} aria-label={`${provider.status === 'needs_attention' ? 'Reconnect' : 'Connect'} ${provider.name}`}>{provider.status === 'needs_attention' ? 'Reconnect' : 'Connect'}</button>
                    : null}
                  {provider.status !== 'not_connected'
                    ? <button type="button" className="button-secondary" disabled={busy} onClick={() => void disconnect(provider)} aria-label={`Disconnect ${provider.name}`}>Disconnect</button>
                    : null}
                  <button type="button" className="button-secondary" disabled={busy} onClick={() => setDeleting(provider)} aria-label={`Remove ${provider.name}`}>Remove</button>
                </div>
              ),
            },
          ]}
        />
      ) : null}
      <Dialog open={adding} title="Add a provider" onClose={() => setAdding(false)}>
        <CreateProviderForm onCancel={() => setAdding(false)} onCreated={(provider) => { setAdding(false); onNotice(`Provider ${provider.name} added. Connect it to sign in to your account there.`); void reload(); }} />
      </Dialog>
      <ConfirmDialog open={deleting !== null} title="Remove this provider?" confirmLabel="Remove provider" busy={busy}
        onConfirm={() => { if (deleting) void remove(deleting); }} onCancel={() => setDeleting(null)}>
        <p>{deleting?.name} is removed with its connection. A provider that a resource still uses cannot be removed.</p>
      </ConfirmDialog>
    </section>
  );
}
