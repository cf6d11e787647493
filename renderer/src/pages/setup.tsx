// First-run setup: the owner, the owner passphrase (what proves the owner is present), the vault, a first resource (a vaulted secret, or an account at a provider
// for brokered access) and a first application, then how an agent gets a token. Each step can be done
// again later from its own page.
import { useCallback, useState, type FormEvent, type ReactNode } from 'react';
import type { AuditRecordView, CreatedApplicationView, ProviderView, ResourceView, StatusView, VaultStatus } from '../../../shared/admin-api.js';
import { api } from '../api.js';
import { SecretValue, CopyButton } from '../components/copy-button.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import { loadOwner, OwnerPassphraseForm, PASSPHRASE_PROTECTS } from '../components/owner-passphrase-form.js';
import { CreateProviderForm } from '../components/provider-form.js';
import { connectNotice, connectProvider } from '../provider-connect.js';
import type { PageProps } from '../pages.js';
import { href } from '../router.js';
import { useEventStream } from '../use-event-stream.js';
import { messageOf, useRequest } from '../use-request.js';

export default function Setup({ session, refreshSession }: PageProps) {
  const status = useRequest(() => api.get<StatusView>('/status'));
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [resource, setResource] = useState<ResourceView | null>(null);
  const [application, setApplication] = useState<CreatedApplicationView | null>(null);
  // An agent of its own (client credentials) cannot reach a brokered resource: that takes a user's
  // delegation. The snippet is for a resource it can reach, when there is one.
  const reachable = (resources.data ?? []).find((candidate) => candidate.credential_type !== 'brokered');
  const firstResource = (resource?.credential_type !== 'brokered' ? resource : null) ?? reachable ?? resource ?? resources.data?.[0] ?? null;

  return (
    <>
      <PageHeader title="First-run setup" description="Five steps, then your first agent can ask Latchkey for a token." />
      <ErrorBanner message={status.error?.message ?? resources.error?.message} onRetry={() => { void status.reload(); void resources.reload(); }} />
      <ol className="steps">
        <li className="card">
          <OwnerStep session={session} onDone={refreshSession} />
        </li>
        <li className="card">
          <PassphraseStep hasOwner={session.user !== null} />
        </li>
        <li className="card">
          <VaultStep vault={status.data?.vault} onChange={(vault) => status.data && status.set({ ...status.data, vault })} />
        </li>
        <li className="card">
          <ResourceStep disabled={!session.user} existing={resources.data ?? []} onCreated={(created) => { setResource(created); void resources.reload(); }} />
        </li>
        <li className="card">
          <ApplicationStep disabled={!session.user || !firstResource} resource={firstResource} onCreated={setApplication} created={application} />
        </li>
        {application && firstResource && status.data ? (
          <li className="card">
            <AgentSnippet issuer={status.data.issuer} application={application} resource={firstResource} />
          </li>
        ) : null}
      </ol>
    </>
  );
}

function OwnerStep({ session, onDone }: { session: PageProps['session']; onDone: () => Promise<void> }) {
  const [name, setName] = useState(session.user?.name ?? '');
  const [email, setEmail] = useState(session.user?.email ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/setup', { name, email });
      setSaved(true);
      await onDone();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="step-owner">
      <h2 id="step-owner">1. You, the owner {session.user ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">Agents act for you: your name and email go into the ID tokens of the applications you sign in to.</p>
      <form onSubmit={(event) => void submit(event)}>
        <Field label="Your name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required autoComplete="name" />}</Field>
        <Field label="Email" error={error}>{(control) => <input {...control} type="email" value={email} onChange={(event) => setEmail(event.target.value)} required autoComplete="email" />}</Field>
        <button type="submit" disabled={busy}>{session.user ? 'Save profile' : 'Create the owner'}</button>
        {saved ? <Notice>Profile saved.</Notice> : null}
      </form>
    </section>
  );
}

function PassphraseStep({ hasOwner }: { hasOwner: boolean }) {
  return hasOwner ? <OwnerPassphraseStep /> : <PassphraseStepView set={false}><p className="muted">Create the owner first.</p></PassphraseStepView>;
}

/** Once there is an owner (`GET /api/owner` is about the owner): set it, or say it is set. */
function OwnerPassphraseStep() {
  const owner = useRequest(loadOwner);
  const set = owner.data?.passphrase_set === true;
  return (
    <PassphraseStepView set={set}>
      <ErrorBanner message={owner.error?.message} onRetry={() => void owner.reload()} />
      {set ? <p>Your owner passphrase is set. Change it in <a href={href('/settings')}>Settings</a>.</p> : null}
      {owner.data && !set ? <OwnerPassphraseForm passphraseSet={false} onDone={() => owner.set((current) => current && { ...current, passphrase_set: true })} /> : null}
    </PassphraseStepView>
  );
}

function PassphraseStepView({ set, children }: { set: boolean; children: ReactNode }) {
  return (
    <section aria-labelledby="step-passphrase">
      <h2 id="step-passphrase">2. Your owner passphrase {set ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">{PASSPHRASE_PROTECTS}</p>
      {children}
    </section>
  );
}

function VaultStep({ vault, onChange }: { vault: VaultStatus | undefined; onChange: (vault: VaultStatus) => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!vault) return <section aria-labelledby="step-vault"><h2 id="step-vault">3. The vault</h2><p role="status">Checking the vault…</p></section>;
  const creating = vault.state === 'uninitialized';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (creating && passphrase !== confirm) { setError('The two passphrases differ.'); return; }
    setBusy(true);
    setError(null);
    try {
      onChange(await api.post<VaultStatus>('/vault/unlock', { passphrase }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setPassphrase('');
      setConfirm('');
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="step-vault">
      <h2 id="step-vault">3. The vault {vault.state === 'unlocked' ? <span className="step-done">✓ done</span> : null}</h2>
      {vault.state === 'unlocked' ? (
        <p>The vault is open{vault.backend === 'keychain' ? ': its key is in your operating system\'s keychain.' : ', protected by your passphrase.'} Secrets and signing keys are sealed in it.</p>
      ) : vault.backend === 'keychain' ? (
        <div className="banner banner-warn"><p>{vault.message}</p></div>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <p>{creating ? 'No OS keychain is reachable here, so the vault\'s key is protected by a passphrase you choose. Latchkey asks for it again after each restart.' : vault.message}</p>
          <Field label={creating ? 'New passphrase' : 'Passphrase'} hint={creating ? 'Long and memorable; it cannot be recovered.' : undefined}>
            {(control) => <input {...control} type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} required autoComplete={creating ? 'new-password' : 'current-password'} />}
          </Field>
          {creating ? <Field label="Repeat the passphrase" error={error}>{(control) => <input {...control} type="password" value={confirm} onChange={(event) => setConfirm(event.target.value)} required autoComplete="new-password" />}</Field> : null}
          {!creating ? <ErrorBanner message={error} /> : null}
          <button type="submit" disabled={busy}>{creating ? 'Create the vault' : 'Unlock'}</button>
        </form>
      )}
    </section>
  );
}

function ResourceStep({ disabled, existing, onCreated }: { disabled: boolean; existing: ResourceView[]; onCreated: (resource: ResourceView) => void }) {
  const [kind, setKind] = useState<'vaulted' | 'provider'>('vaulted');
  const [name, setName] = useState('');
  const [identifier, setIdentifier] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ResourceView | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const resource = await api.post<ResourceView>('/resources', { name, identifier, credential_type: 'vaulted', secret });
      setCreated(resource);
      onCreated(resource);
      setName('');
      setIdentifier('');
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      // The secret went to the vault (or nowhere): it does not stay in the page.
      setSecret('');
      setBusy(false);
    }
  };
  const done = created ?? existing[0];
  return (
    <section aria-labelledby="step-resource">
      <h2 id="step-resource">4. A first resource {done ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">A resource is something an agent reaches: an API whose key Latchkey keeps in the vault, or your account at a provider (GitHub, Google, any OAuth server) whose tokens Latchkey obtains for the agents you allow. Either way the agent never holds your key or your login.</p>
      {created ? <Notice><strong>{created.name}</strong> is stored{created.credential_type === 'vaulted' ? '; its secret is sealed in the vault' : ''}.</Notice> : null}
      {done && !created ? <p>You have {existing.length === 1 ? 'a resource' : `${existing.length} resources`}: <strong>{done.name}</strong>{existing.length > 1 ? ' and others' : ''}. Add another below, or go on.</p> : null}
      <fieldset disabled={disabled}>
        <legend>What the first resource is</legend>
        <label className="checkbox"><input type="radio" name="first_resource_kind" checked={kind === 'vaulted'} onChange={() => setKind('vaulted')} /> A static secret (an API key or a password)</label>
        <label className="checkbox"><input type="radio" name="first_resource_kind" checked={kind === 'provider'} onChange={() => setKind('provider')} /> Connect a provider (your account at an OAuth or OpenID server)</label>
      </fieldset>
      {kind === 'provider' && !disabled ? <ProviderResource onCreated={(resource) => { setCreated(resource); onCreated(resource); }} /> : null}
      {kind === 'vaulted' ? <form onSubmit={(event) => void submit(event)}>
        <fieldset disabled={disabled}>
          <legend>A vaulted secret</legend>
          <Field label="Name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required placeholder="Weather API" />}</Field>
          <Field label="Identifier" hint="The API's URL: what agents name as the resource they want.">
            {(control) => <input {...control} type="url" value={identifier} onChange={(event) => setIdentifier(event.target.value)} required placeholder="https://api.weather.example/" />}
          </Field>
          <Field label="Secret (API key or password)" hint="Sent to the vault once; never displayed back." error={error}>
            {(control) => <input {...control} type="password" value={secret} onChange={(event) => setSecret(event.target.value)} required autoComplete="off" />}
          </Field>
          <button type="submit" disabled={busy}>Store the resource</button>
        </fieldset>
      </form> : null}
      {disabled ? <p className="muted">Create the owner first.</p> : null}
    </section>
  );
}

/** The first resource as brokered access: a provider (added here, or one added before), the owner's account connected, a resource on it. */
function ProviderResource({ onCreated }: { onCreated: (resource: ResourceView) => void }) {
  const providers = useRequest(() => api.get<ProviderView[]>('/providers'));
  // The login finishes in the provider's tab: the audit feed says when the account is connected.
  const onAudit = useCallback((row: AuditRecordView) => {
    if (row.event.startsWith('provider.')) void providers.reload();
  }, [providers]);
  useEventStream<AuditRecordView>('/api/audit/events', 'audit', onAudit);
  const [chosen, setChosen] = useState<string>('');
  const [name, setName] = useState('');
  const [identifier, setIdentifier] = useState('');
  const [upstreamScopes, setUpstreamScopes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const list = providers.data ?? [];
  const provider = list.find((candidate) => candidate.id === chosen) ?? (chosen === '' ? list[0] : undefined);

  const connect = async (target: ProviderView) => {
    setError(null);
    try {
      await connectProvider(target);
      setNotice(connectNotice(target));
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!provider) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.post<ResourceView>('/resources', {
        name, identifier, credential_type: 'brokered', provider_id: provider.id, upstream_scopes: upstreamScopes.split(/[\s,]+/).filter(Boolean),
      }));
      setName('');
      setIdentifier('');
      setUpstreamScopes('');
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  if (!providers.data) return <ErrorBanner message={providers.error?.message} onRetry={() => void providers.reload()} />;
  if (!provider) {
    return (
      <div className="subsection">
        <h3>Add the provider</h3>
        <p className="muted">Register Latchkey as an OAuth app at the provider first; its redirect URI is this broker's <code>/oauth2/providers/callback</code>.</p>
        <CreateProviderForm onCreated={(created) => { setChosen(created.id); void providers.reload(); }} />
      </div>
    );
  }
  return (
    <div className="subsection">
      <ErrorBanner message={error} />
      {notice && provider.status !== 'connected' ? <Notice>{notice}</Notice> : null}
      <p>
        Provider <strong>{provider.name}</strong>: {provider.status === 'connected' ? <span className="badge badge-ok">Connected</span> : provider.status === 'needs_attention' ? <span className="badge badge-warn">Needs attention</span> : <span className="badge">Not connected</span>}{' '}
        {provider.status !== 'connected' ? <button type="button" onClick={() => void connect(provider)}>Connect {provider.name}</button> : null}{' '}
        <button type="button" className="button-secondary" onClick={() => void providers.reload()}>Check again</button>
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <fieldset>
          <legend>A resource reached with your {provider.name} account</legend>
          <Field label="Name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required placeholder="GitHub API" />}</Field>
          <Field label="Identifier" hint="The API's URL: what agents name as the resource they want.">
            {(control) => <input {...control} type="url" value={identifier} onChange={(event) => setIdentifier(event.target.value)} required placeholder="https://api.github.com/" />}
          </Field>
          <Field label="Upstream scopes" hint="What Latchkey asks the provider for on the agents' behalf, space-separated.">
            {(control) => <input {...control} value={upstreamScopes} onChange={(event) => setUpstreamScopes(event.target.value)} autoComplete="off" />}
          </Field>
          <button type="submit" disabled={busy}>Add the resource</button>
        </fieldset>
      </form>
    </div>
  );
}

function ApplicationStep({ disabled, resource, created, onCreated }: { disabled: boolean; resource: ResourceView | null; created: CreatedApplicationView | null; onCreated: (app: CreatedApplicationView) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!resource) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.post<CreatedApplicationView>('/applications', { name, identity_type: 'agent', auth_method: 'client_secret_basic', grant_types: ['client_credentials'], resources: [resource.identifier] }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="step-application">
      <h2 id="step-application">5. A first application {created ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">An application is an agent (or a service) that asks Latchkey for credentials. It gets a client id and a secret; the secret is shown once.</p>
      {!created && resource?.credential_type === 'brokered' ? (
        <p>Your account at a provider is reached by agents acting <em>for you</em>: an agent signs you in (authorization code with PKCE) and you consent once; it then asks Latchkey for <strong>{resource.name}</strong>. Register it in <a href={href('/applications')}>Applications</a> with its redirect URI, or add a static secret above for an agent of its own.</p>
      ) : created ? (
        <div>
          <p><strong>{created.name}</strong> can now reach <strong>{resource?.name}</strong>.</p>
          <dl className="facts">
            <dt>Client id</dt>
            <dd><SecretValue value={created.client_id} label="client id" /></dd>
            {created.client_secret ? <><dt>Client secret</dt><dd><SecretValue value={created.client_secret} label="client secret" /><span className="muted">Shown once: copy it now. Latchkey keeps only its hash.</span></dd></> : null}
          </dl>
        </div>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <fieldset disabled={disabled}>
            <legend>An agent that may reach {resource ? resource.name : 'your resource'}</legend>
            <Field label="Application name" error={error}>{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required placeholder="My research agent" />}</Field>
            <button type="submit" disabled={busy}>Create the application</button>
          </fieldset>
          {disabled ? <p className="muted">Create the owner and a resource first.</p> : null}
        </form>
      )}
    </section>
  );
}

function AgentSnippet({ issuer, application, resource }: { issuer: string; application: CreatedApplicationView; resource: ResourceView }) {
  const snippet = [
    `# The agent asks Latchkey for ${resource.name}'s credential (client credentials, RFC 6749 §4.4):`,
    `export LATCHKEY_CLIENT_SECRET='paste the client secret here'`,
    `curl -s -u "${application.client_id}:$LATCHKEY_CLIENT_SECRET" \\`,
    `  -d grant_type=client_credentials \\`,
    `  --data-urlencode resource=${shellQuote(resource.identifier)} \\`,
    `  ${issuer}/oauth2/token`,
  ].join('\n');
  return (
    <section aria-labelledby="step-agent">
      <h2 id="step-agent">Your agent gets a token</h2>
      <p>Give the agent its client id and secret; it asks Latchkey for the credential whenever it needs one. Latchkey checks its policies, records the release in the audit log, and answers with the secret as <code>access_token</code>.</p>
      <pre className="snippet"><code>{snippet}</code></pre>
      <div className="button-row">
        <CopyButton value={snippet} label="the curl snippet" />
        <a href={href('/applications')}>Manage applications</a>
        <a href={href('/')}>Go to the overview</a>
      </div>
    </section>
  );
}

const shellQuote = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
