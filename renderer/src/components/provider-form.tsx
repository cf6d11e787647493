// The form that registers an upstream OAuth / OpenID provider (brokered access): by its issuer (discovery)
// or by explicit endpoints. Used on the Resources page and in first-run setup.
import { useState, type FormEvent } from 'react';
import type { CreateProviderRequest, ProviderView } from '../../../shared/admin-api.js';
import { api } from '../api.js';
import { messageOf } from '../use-request.js';
import { ErrorBanner } from './error-banner.js';
import { Field } from './field.js';

const words = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** Adds an upstream provider. The client secret goes from a password field to the vault and is never shown back. */
export function CreateProviderForm({ onCancel, onCreated }: { onCancel?: () => void; onCreated: (provider: ProviderView) => void }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'issuer' | 'endpoints'>('issuer');
  const [issuer, setIssuer] = useState('');
  const [authorization, setAuthorization] = useState('');
  const [token, setToken] = useState('');
  const [revocation, setRevocation] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const request: CreateProviderRequest = {
      name, client_id: clientId,
      ...(mode === 'issuer' ? { issuer } : { endpoints: { authorization_endpoint: authorization, token_endpoint: token, ...(revocation ? { revocation_endpoint: revocation } : {}) } }),
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      ...(words(scopes).length ? { scopes: words(scopes) } : {}),
    };
    try {
      const created = await api.post<ProviderView>('/providers', request);
      setClientSecret('');
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
      <Field label="Name">{(control) => <input {...control} value={name} onChange={(event) => setName(event.target.value)} required placeholder="GitHub" autoComplete="off" />}</Field>
      <fieldset>
        <legend>How Latchkey finds its endpoints</legend>
        <label className="checkbox"><input type="radio" name="provider_mode" checked={mode === 'issuer'} onChange={() => setMode('issuer')} /> Issuer (OpenID / OAuth discovery)</label>
        <label className="checkbox"><input type="radio" name="provider_mode" checked={mode === 'endpoints'} onChange={() => setMode('endpoints')} /> Endpoints, given by hand</label>
      </fieldset>
      {mode === 'issuer' ? (
        <Field label="Issuer">{(control) => <input {...control} value={issuer} onChange={(event) => setIssuer(event.target.value)} required placeholder="https://accounts.example.com" inputMode="url" autoComplete="off" />}</Field>
      ) : (
        <>
          <Field label="Authorization endpoint">{(control) => <input {...control} value={authorization} onChange={(event) => setAuthorization(event.target.value)} required inputMode="url" autoComplete="off" />}</Field>
          <Field label="Token endpoint">{(control) => <input {...control} value={token} onChange={(event) => setToken(event.target.value)} required inputMode="url" autoComplete="off" />}</Field>
          <Field label="Revocation endpoint (optional)">{(control) => <input {...control} value={revocation} onChange={(event) => setRevocation(event.target.value)} inputMode="url" autoComplete="off" />}</Field>
        </>
      )}
      <Field label="Client ID" hint="From the OAuth app you registered with the provider.">{(control) => <input {...control} value={clientId} onChange={(event) => setClientId(event.target.value)} required autoComplete="off" />}</Field>
      <Field label="Client secret (optional)" hint="Kept in the vault; never shown again.">
        {(control) => <input {...control} type="password" value={clientSecret} onChange={(event) => setClientSecret(event.target.value)} autoComplete="new-password" spellCheck={false} />}
      </Field>
      <Field label="Scopes" hint="What to ask the provider for, space-separated.">{(control) => <input {...control} value={scopes} onChange={(event) => setScopes(event.target.value)} autoComplete="off" />}</Field>
      <div className="dialog-actions">
        {onCancel ? <button type="button" className="button-secondary" onClick={onCancel}>Cancel</button> : null}
        <button type="submit" disabled={busy}>Add provider</button>
      </div>
    </form>
  );
}
