// First-run setup: the owner, the vault, a first resource (a vaulted secret) and a first application,
// then how an agent gets a token. Each step can be done again later from its own page.
import { useState, type FormEvent } from 'react';
import type { CreatedApplicationView, ResourceView, StatusView, VaultStatus } from '../../../shared/admin-api.js';
import { api } from '../api.js';
import { SecretValue, CopyButton } from '../components/copy-button.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { href } from '../router.js';
import { messageOf, useRequest } from '../use-request.js';

export default function Setup({ session, refreshSession }: PageProps) {
  const status = useRequest(() => api.get<StatusView>('/status'));
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [resource, setResource] = useState<ResourceView | null>(null);
  const [application, setApplication] = useState<CreatedApplicationView | null>(null);
  const firstResource = resource ?? resources.data?.[0] ?? null;

  return (
    <>
      <PageHeader title="First-run setup" description="Four steps, then your first agent can ask Latchkey for a token." />
      <ErrorBanner message={status.error?.message ?? resources.error?.message} onRetry={() => { void status.reload(); void resources.reload(); }} />
      <ol className="steps">
        <li className="card">
          <OwnerStep session={session} onDone={refreshSession} />
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

function VaultStep({ vault, onChange }: { vault: VaultStatus | undefined; onChange: (vault: VaultStatus) => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!vault) return <section aria-labelledby="step-vault"><h2 id="step-vault">2. The vault</h2><p role="status">Checking the vault…</p></section>;
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
      <h2 id="step-vault">2. The vault {vault.state === 'unlocked' ? <span className="step-done">✓ done</span> : null}</h2>
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
      <h2 id="step-resource">3. A first resource {done ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">A resource is something an agent reaches: here an API whose key Latchkey keeps in the vault and hands out only when policy and consent allow. The key is never shown again, here or anywhere.</p>
      {created ? <Notice><strong>{created.name}</strong> is stored; its secret is sealed in the vault.</Notice> : null}
      {done && !created ? <p>You have {existing.length === 1 ? 'a resource' : `${existing.length} resources`}: <strong>{done.name}</strong>{existing.length > 1 ? ' and others' : ''}. Add another below, or go on.</p> : null}
      <form onSubmit={(event) => void submit(event)}>
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
      </form>
      {disabled ? <p className="muted">Create the owner first.</p> : null}
    </section>
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
      <h2 id="step-application">4. A first application {created ? <span className="step-done">✓ done</span> : null}</h2>
      <p className="muted">An application is an agent (or a service) that asks Latchkey for credentials. It gets a client id and a secret; the secret is shown once.</p>
      {created ? (
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
