// Applications: the agents and services that ask Latchkey for credentials. The list (self-registered
// clients marked unverified), creating one (its secret shown once; a client secret, a public client, or
// private_key_jwt with a pasted JWKS), and one application's page: grants, resources and scopes edited as
// checkbox lists, consent mode, enable/disable, delete, API keys.
import { useState, type FormEvent } from 'react';
import { CONSENT_MODES, GRANT_TYPES, IDENTITY_TYPES } from '../../../shared/domain.js';
import { jwkSet, type ApiKeyView, type ApplicationView, type CreatedApiKeyView, type CreatedApplicationView, type ResourceView } from '../../../shared/admin-api.js';
import { api, segment } from '../api.js';
import { ConfirmDialog, Dialog } from '../components/confirm-dialog.js';
import { SecretValue } from '../components/copy-button.js';
import { DataTable } from '../components/data-table.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorBanner, Notice } from '../components/error-banner.js';
import { Field } from '../components/field.js';
import { PageHeader } from '../components/page-header.js';
import type { PageProps } from '../pages.js';
import { href, navigate } from '../router.js';
import { messageOf, useRequest } from '../use-request.js';

/** Grant types by what they let an application do, in the words the page uses. */
const GRANTS: Array<{ value: string; label: string }> = [
  { value: GRANT_TYPES.clientCredentials, label: 'Client credentials (acts on its own)' },
  { value: GRANT_TYPES.authorizationCode, label: 'Authorization code (acts for you, after consent)' },
  { value: GRANT_TYPES.refreshToken, label: 'Refresh token' },
  { value: GRANT_TYPES.tokenExchange, label: 'Token exchange (delegation chains)' },
  { value: GRANT_TYPES.jwtBearer, label: 'JWT bearer assertion' },
  { value: GRANT_TYPES.apiKey, label: 'API key' },
  { value: GRANT_TYPES.ciba, label: 'Approval without a browser (CIBA)' },
];
/** How an application proves who it is, in the words the page uses. */
type AuthChoice = 'client_secret_basic' | 'none' | 'private_key_jwt';
const AUTH_CHOICES: Array<{ value: AuthChoice; label: string }> = [
  { value: 'client_secret_basic', label: 'A client secret (shown once)' },
  { value: 'none', label: 'Public client (no secret: a CLI or desktop app; signs in with PKCE only)' },
  { value: 'private_key_jwt', label: 'Signed assertions with its own key (private_key_jwt)' },
];

/** The pasted JWKS, parsed and checked against the admin API's schema; else what is wrong with it. */
function jwksProblem(text: string): { keys: unknown } | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'This is not JSON: paste the whole key set, {"keys": [...]}.';
  }
  const checked = jwkSet.safeParse(parsed);
  if (!checked.success) return 'This is not a key set: it needs a "keys" list of 1 to 20 keys.';
  return { keys: checked.data };
}

const grantLabel = (grant: string) => GRANTS.find((entry) => entry.value === grant)?.label.replace(/ \(.*\)$/, '') ?? grant;

export default function Applications({ subroute }: PageProps) {
  const clientId = subroute.startsWith('/') ? decodeURIComponent(subroute.slice(1)) : '';
  // Keyed: another application is a fresh page, with everything it shows loaded anew.
  return clientId ? <ApplicationDetail key={clientId} clientId={clientId} /> : <ApplicationList />;
}

function ApplicationList() {
  const applications = useRequest(() => api.get<ApplicationView[]>('/applications'));
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApplicationView | null>(null);

  return (
    <>
      <PageHeader title="Applications" description="Agents and services that ask Latchkey for credentials."
        actions={<button type="button" onClick={() => setCreating(true)}>New application</button>} />
      <ErrorBanner message={applications.error?.message} onRetry={() => void applications.reload()} />
      {applications.data && applications.data.length === 0 ? (
        <EmptyState title="No applications yet" action={<button type="button" onClick={() => setCreating(true)}>Create the first one</button>}>
          Register each agent here: it gets a client id and a secret to ask Latchkey for tokens. MCP clients may also register themselves (they show as unverified).
        </EmptyState>
      ) : null}
      {applications.data && applications.data.length > 0 ? (
        <DataTable caption="Applications" rows={applications.data} rowKey={(app) => app.client_id} columns={[
          { header: 'Name', cell: (app) => <a href={href(`/applications/${segment(app.client_id)}`)}>{app.name}</a> },
          { header: 'Status', cell: (app) => <ApplicationBadges app={app} /> },
          { header: 'Kind', cell: (app) => app.identity_type, secondary: true },
          { header: 'Client id', cell: (app) => <code>{app.client_id}</code>, secondary: true },
          { header: 'Grants', cell: (app) => app.grant_types.map(grantLabel).join(', '), secondary: true },
        ]} />
      ) : null}
      <Dialog open={creating} title="New application" onClose={() => setCreating(false)}>
        <CreateApplicationForm resources={resources.data ?? []} onCancel={() => setCreating(false)}
          onCreated={(app) => { setCreating(false); setCreated(app); void applications.reload(); }} />
      </Dialog>
      <Dialog open={created !== null} title="Application created" onClose={() => setCreated(null)}>
        {created ? <CreatedCredentials app={created} onDone={() => setCreated(null)} /> : null}
      </Dialog>
    </>
  );
}

function ApplicationBadges({ app }: { app: ApplicationView }) {
  return (
    <span>
      {app.enabled ? <span className="badge badge-ok">enabled</span> : <span className="badge badge-danger">disabled</span>}{' '}
      {app.registration === 'dynamic' ? <span className="badge badge-warn" title="It registered itself (RFC 7591): its name is its own claim">unverified</span> : null}
    </span>
  );
}

/** The credentials of a new application, shown this once. */
function CreatedCredentials({ app, onDone }: { app: CreatedApplicationView; onDone: () => void }) {
  return (
    <>
      <p><strong>{app.name}</strong> is registered.{app.client_secret ? ' Copy its secret now: it is shown this once, and Latchkey keeps only its hash.' : ' It is a public client: it has no secret.'}</p>
      <dl className="facts">
        <dt>Client id</dt>
        <dd><SecretValue value={app.client_id} label="client id" /></dd>
        {app.client_secret ? <><dt>Client secret</dt><dd><SecretValue value={app.client_secret} label="client secret" /></dd></> : null}
      </dl>
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={() => navigate(`/applications/${segment(app.client_id)}`)}>Open its page</button>
        <button type="button" onClick={onDone}>Done</button>
      </div>
    </>
  );
}

function CreateApplicationForm({ resources, onCreated, onCancel }: { resources: ResourceView[]; onCreated: (app: CreatedApplicationView) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [identityType, setIdentityType] = useState<string>('agent');
  const [authMethod, setAuthMethod] = useState<AuthChoice>('client_secret_basic');
  const [jwks, setJwks] = useState('');
  const [jwksError, setJwksError] = useState<string | null>(null);
  const [grants, setGrants] = useState<string[]>([GRANT_TYPES.clientCredentials]);
  const [chosen, setChosen] = useState<string[]>([]);
  const [redirectUris, setRedirectUris] = useState('');
  const [consentMode, setConsentMode] = useState<string>('explicit');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setJwksError(null);
    let keys: unknown;
    if (authMethod === 'private_key_jwt') {
      const problem = jwksProblem(jwks);
      if (typeof problem === 'string') return setJwksError(problem);
      keys = problem.keys;
    }
    setBusy(true);
    try {
      onCreated(await api.post<CreatedApplicationView>('/applications', {
        name,
        identity_type: identityType,
        auth_method: authMethod,
        ...(keys ? { jwks: keys } : {}),
        grant_types: grants,
        resources: chosen,
        redirect_uris: redirectUris.split('\n').map((uri) => uri.trim()).filter(Boolean),
        consent_mode: consentMode,
      }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      <Field label="Name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required />}</Field>
      <Field label="Kind">{(control) => (
        <select {...control} value={identityType} onChange={(event) => setIdentityType(event.target.value)}>
          {IDENTITY_TYPES.map((type) => <option key={type} value={type}>{type.replace('_', ' ')}</option>)}
        </select>
      )}</Field>
      <Field label="How it proves who it is">{(control) => (
        <select {...control} value={authMethod} onChange={(event) => {
          const chosen = event.target.value as AuthChoice;
          setAuthMethod(chosen);
          if (chosen === 'none') setGrants([GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken]);
        }}>
          {AUTH_CHOICES.map((choice) => <option key={choice.value} value={choice.value}>{choice.label}</option>)}
        </select>
      )}</Field>
      {authMethod === 'private_key_jwt' ? (
        <Field label="Public keys (JWKS)" hint='Paste its JSON Web Key Set: {"keys": [...]}, public keys only. It signs its requests with the matching private key, which never leaves it.' error={jwksError}>
          {(control) => <textarea {...control} className="jwks-input" value={jwks} onChange={(event) => { setJwks(event.target.value); setJwksError(null); }} required spellCheck={false} />}
        </Field>
      ) : null}
      <fieldset>
        <legend>What it may do</legend>
        {GRANTS.map((grant) => (
          <label key={grant.value} className="checkbox"><input type="checkbox" checked={grants.includes(grant.value)} onChange={() => setGrants(toggle(grants, grant.value))} /> {grant.label}</label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Resources it may reach</legend>
        {resources.length === 0 ? <p className="muted">No resources yet (add them on the Resources page).</p> : resources.map((resource) => (
          <label key={resource.identifier} className="checkbox"><input type="checkbox" checked={chosen.includes(resource.identifier)} onChange={() => setChosen(toggle(chosen, resource.identifier))} /> {resource.name} <code>{resource.identifier}</code></label>
        ))}
      </fieldset>
      {grants.includes(GRANT_TYPES.authorizationCode) ? (
        <Field label="Redirect URIs" hint="One per line: where the authorization code goes back to.">{(control) => <textarea {...control} value={redirectUris} onChange={(event) => setRedirectUris(event.target.value)} />}</Field>
      ) : null}
      <Field label="Consent" hint="Explicit: you approve each application's access on a consent page. Implicit: an admin's permission is enough.">{(control) => (
        <select {...control} value={consentMode} onChange={(event) => setConsentMode(event.target.value)}>
          {CONSENT_MODES.map((mode) => <option key={mode} value={mode}>{mode}</option>)}
        </select>
      )}</Field>
      <ErrorBanner message={error} />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>Cancel</button>
        <button type="submit" disabled={busy}>Create</button>
      </div>
    </form>
  );
}

function ApplicationDetail({ clientId }: { clientId: string }) {
  const app = useRequest(() => api.get<ApplicationView>(`/applications/${segment(clientId)}`), [clientId]);
  const resources = useRequest(() => api.get<ResourceView[]>('/resources'));
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);

  const change = async (work: () => Promise<ApplicationView>, said: string) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      app.set(await work());
      setNotice(said);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await api.delete(`/applications/${segment(clientId)}`);
      navigate('/applications');
    } catch (caught) {
      setError(messageOf(caught));
      setDeleting(false);
    } finally {
      setBusy(false);
    }
  };

  if (app.error) return <><PageHeader title="Application" /><ErrorBanner message={app.error.message} /><p><a href={href('/applications')}>All applications</a></p></>;
  if (!app.data) return <><PageHeader title="Application" /><p role="status">Loading…</p></>;
  const view = app.data;
  const patch = (body: Record<string, unknown>, said: string) => change(() => api.patch<ApplicationView>(`/applications/${segment(clientId)}`, body), said);

  return (
    <>
      <PageHeader title={view.name} description={<><a href={href('/applications')}>Applications</a> › {view.name}</>} actions={
        <>
          <button type="button" className="button-secondary" disabled={busy}
            onClick={() => void change(() => api.post<ApplicationView>(`/applications/${segment(clientId)}/${view.enabled ? 'disable' : 'enable'}`), view.enabled ? 'Disabled: it gets no new tokens.' : 'Enabled.')}>
            {view.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="button-danger" onClick={() => setDeleting(true)}>Delete</button>
        </>
      } />
      <ErrorBanner message={error} />
      {notice ? <Notice>{notice}</Notice> : null}
      {view.registration === 'dynamic' ? (
        <div className="banner banner-warn"><p><strong>Unverified.</strong> This client registered itself (dynamic registration): its name is what it claims to be, not something you checked.</p></div>
      ) : null}
      <section className="card" aria-labelledby="app-facts">
        <h2 id="app-facts">About</h2>
        <dl className="facts">
          <dt>Status</dt><dd><ApplicationBadges app={view} /></dd>
          <dt>Client id</dt><dd><code>{view.client_id}</code></dd>
          <dt>Kind</dt><dd>{view.identity_type}{view.sub_type ? ` (${view.sub_type})` : ''}</dd>
          <dt>Client</dt><dd>{view.client_type} ({view.auth_method})</dd>
          <dt>Redirect URIs</dt><dd>{view.redirect_uris.length ? view.redirect_uris.join(', ') : 'none'}</dd>
          <dt>Created</dt><dd>{new Date(view.created_at).toLocaleString()}</dd>
        </dl>
      </section>

      {view.registration === 'admin' ? (
        <AccessForm key={accessKey(view)} view={view} resources={resources.data ?? []} busy={busy}
          onSave={(body) => void patch(body, body.remove_resources ? 'Changes saved. Its live tokens for the removed resources are revoked.' : 'Changes saved.')} />
      ) : (
        <section className="card" aria-labelledby="app-grants">
          <h2 id="app-grants">What it may do</h2>
          <ul>{view.grant_types.map((grant) => <li key={grant}>{grantLabel(grant)}</li>)}</ul>
          <p className="muted">A self-registered client keeps what it registered; what it reaches is what you consent to.</p>
        </section>
      )}

      <section className="card" aria-labelledby="app-consent">
        <h2 id="app-consent">Consent</h2>
        <Field label="Consent mode" hint="Explicit: you approve its access on a consent page. Implicit: your permission here is enough.">{(control) => (
          <select {...control} value={view.consent_mode} disabled={busy} onChange={(event) => void patch({ consent_mode: event.target.value }, 'Consent mode changed.')}>
            {CONSENT_MODES.map((mode) => <option key={mode} value={mode}>{mode}</option>)}
          </select>
        )}</Field>
      </section>

      <ApiKeys clientId={clientId} />

      <ConfirmDialog open={deleting} title={`Delete ${view.name}?`} confirmLabel="Delete application" busy={busy} onCancel={() => setDeleting(false)} onConfirm={() => void remove()}>
        <p>Its consents are withdrawn and its tokens revoked at once; it can no longer get any. The audit log keeps its history. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

/** What the access form shows, so a saved change (a new view) starts it afresh. */
const accessKey = (view: ApplicationView) => JSON.stringify([view.grant_types, view.resources, view.scopes]);
const toggle = (list: string[], value: string) => (list.includes(value) ? list.filter((item) => item !== value) : [...list, value]);

/**
 * What the application may do and reach: its grant types, its resources, and the scopes it may have of
 * each (or any scope of its resources). One Save sends only what changed (`PATCH`), which the broker
 * checks as at creation.
 */
function AccessForm({ view, resources, busy, onSave }: { view: ApplicationView; resources: ResourceView[]; busy: boolean; onSave: (body: Record<string, unknown>) => void }) {
  const [grants, setGrants] = useState<string[]>(view.grant_types);
  const [chosen, setChosen] = useState<string[]>(view.resources);
  const [anyScope, setAnyScope] = useState(view.scopes === null);
  const [scopes, setScopes] = useState<string[]>(view.scopes ?? []);
  const reachable = resources.filter((resource) => chosen.includes(resource.identifier));
  // A grant this page has no words for (none today) is still listed, so it can be removed.
  const grantChoices = [...GRANTS, ...view.grant_types.filter((grant) => !GRANTS.some((entry) => entry.value === grant)).map((grant) => ({ value: grant, label: grant }))];

  const changes = (): Record<string, unknown> => {
    const body: Record<string, unknown> = {};
    const added = (now: string[], before: string[]) => now.filter((item) => !before.includes(item));
    if (added(chosen, view.resources).length) body.add_resources = added(chosen, view.resources);
    if (added(view.resources, chosen).length) body.remove_resources = added(view.resources, chosen);
    if (added(grants, view.grant_types).length) body.add_grant_types = added(grants, view.grant_types);
    if (added(view.grant_types, grants).length) body.remove_grant_types = added(view.grant_types, grants);
    // Only the scopes of resources it keeps: a removed resource's scopes mean nothing any more.
    const offered = new Set(reachable.flatMap((resource) => resource.scopes));
    const nextScopes = anyScope ? null : scopes.filter((scope) => offered.has(scope));
    if (JSON.stringify(nextScopes) !== JSON.stringify(view.scopes)) body.scopes = nextScopes;
    return body;
  };
  const pending = changes();
  const removing = (pending.remove_resources as string[] | undefined) ?? [];

  return (
    <form className="card" aria-labelledby="app-access" onSubmit={(event) => { event.preventDefault(); onSave(pending); }}>
      <h2 id="app-access">What it may do and reach</h2>
      <fieldset>
        <legend>Grant types</legend>
        {grantChoices.map((grant) => (
          <label key={grant.value} className="checkbox"><input type="checkbox" checked={grants.includes(grant.value)} onChange={() => setGrants(toggle(grants, grant.value))} /> {grant.label}</label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Resources it may reach</legend>
        {resources.length === 0 ? <p className="muted">No resources yet (add them on the Resources page).</p> : resources.map((resource) => (
          <label key={resource.identifier} className="checkbox"><input type="checkbox" checked={chosen.includes(resource.identifier)} onChange={() => setChosen(toggle(chosen, resource.identifier))} /> {resource.name} <code>{resource.identifier}</code></label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Scopes</legend>
        <label className="checkbox"><input type="checkbox" checked={anyScope} onChange={(event) => {
          setAnyScope(event.target.checked);
          // Limiting starts from everything its resources offer: the admin unchecks what it may not have.
          if (!event.target.checked && scopes.length === 0) setScopes(reachable.flatMap((resource) => resource.scopes));
        }} /> Any scope of its resources</label>
        {anyScope ? null : reachable.map((resource) => (
          <fieldset key={resource.identifier} className="scope-group">
            <legend>{resource.name}</legend>
            {resource.scopes.length === 0 ? <p className="muted">This resource has no scopes.</p> : resource.scopes.map((scope) => (
              <label key={scope} className="checkbox"><input type="checkbox" checked={scopes.includes(scope)} onChange={() => setScopes(toggle(scopes, scope))} /> <code>{scope}</code></label>
            ))}
          </fieldset>
        ))}
      </fieldset>
      {removing.length ? (
        <p className="banner banner-warn">Removing {removing.length === 1 ? 'a resource' : 'resources'} revokes its live tokens there at once, and no token or refresh reaches {removing.length === 1 ? 'it' : 'them'} again.</p>
      ) : null}
      <div className="button-row">
        <button type="submit" disabled={busy || Object.keys(pending).length === 0}>Save changes</button>
      </div>
    </form>
  );
}

function ApiKeys({ clientId }: { clientId: string }) {
  const keys = useRequest(() => api.get<ApiKeyView[]>(`/api-keys?client_id=${encodeURIComponent(clientId)}`), [clientId]);
  const [created, setCreated] = useState<CreatedApiKeyView | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const create = async () => {
    setError(null);
    try {
      setCreated(await api.post<CreatedApiKeyView>(`/applications/${segment(clientId)}/api-keys`));
      void keys.reload();
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  const revoke = async (key: ApiKeyView) => {
    setError(null);
    try {
      await api.post(`/api-keys/${segment(key.id)}/revoke`);
      void keys.reload();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setRevoking(null);
    }
  };
  const live = (keys.data ?? []).filter((key) => key.revoked_at === null);
  return (
    <section className="card" aria-labelledby="app-keys">
      <h2 id="app-keys">API keys</h2>
      <p className="muted">An API key lets the application get tokens with the API key grant instead of its client secret.</p>
      <ErrorBanner message={error ?? keys.error?.message} />
      {live.length ? (
        <DataTable caption="API keys" rows={live} rowKey={(key) => key.id} columns={[
          { header: 'Key id', cell: (key) => <code>{key.id}</code> },
          { header: 'Created', cell: (key) => new Date(key.created_at).toLocaleString() },
          { header: 'Actions', cell: (key) => <button type="button" className="button-secondary" onClick={() => setRevoking(key)} aria-label={`Revoke ${key.id}`}>Revoke</button> },
        ]} />
      ) : <p>No API keys.</p>}
      <div className="button-row"><button type="button" className="button-secondary" onClick={() => void create()}>Create an API key</button></div>
      <Dialog open={created !== null} title="API key created" onClose={() => setCreated(null)}>
        {created ? (
          <>
            <p>Copy the key now: it is shown this once, and Latchkey keeps only its hash.</p>
            <SecretValue value={created.api_key} label="API key" />
            <div className="dialog-actions"><button type="button" onClick={() => setCreated(null)}>Done</button></div>
          </>
        ) : null}
      </Dialog>
      <ConfirmDialog open={revoking !== null} title="Revoke this API key?" confirmLabel="Revoke" onCancel={() => setRevoking(null)} onConfirm={() => revoking && void revoke(revoking)}>
        <p>Whatever uses <code>{revoking?.id}</code> can no longer get tokens with it.</p>
      </ConfirmDialog>
    </section>
  );
}
