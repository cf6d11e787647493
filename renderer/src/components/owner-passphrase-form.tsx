// The owner passphrase, set (first run, Settings) or changed (Settings): typed twice, checked for a match
// here, for strength by the broker (400 `weak_passphrase`, whose reason is shown at the field).
import { useState, type FormEvent } from 'react';
import type { OwnerView } from '../../../shared/admin-api.js';
import { api, ApiError, proveOwnerPresence } from '../api.js';
import { ErrorBanner, Notice } from './error-banner.js';
import { Field } from './field.js';
import { sentence } from './presence-dialog.js';

/** What the owner passphrase is for, in one line. */
export const PASSPHRASE_PROTECTS = 'Agents on this computer cannot approve or widen anything without it: Latchkey asks for it before anything that gives agents more.';

/** The owner as `GET /api/owner` tells it. */
export const loadOwner = () => api.get<OwnerView>('/owner');

type Errors = { current?: string; passphrase?: string; repeat?: string; other?: string };

/** `onCancel`: in a dialog, a Cancel button beside the submit. */
export function OwnerPassphraseForm({ passphraseSet, onDone, onCancel }: { passphraseSet: boolean; onDone: () => void; onCancel?: () => void }) {
  const [current, setCurrent] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    if (passphrase !== repeat) { setErrors({ repeat: 'The two passphrases differ.' }); return; }
    setBusy(true);
    setErrors({});
    try {
      await api.post('/owner/passphrase', passphraseSet ? { passphrase, current_passphrase: current } : { passphrase });
      // The owner has just typed it: this session is present, so the next steps do not ask for it again.
      if (!passphraseSet) await proveOwnerPresence(passphrase).catch(() => undefined);
      setDone(passphraseSet ? 'Owner passphrase changed.' : 'Owner passphrase set: Latchkey asks for it before anything that gives agents more.');
      setCurrent('');
      setPassphrase('');
      setRepeat('');
      onDone();
    } catch (caught) {
      setErrors(placeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      {passphraseSet ? (
        <Field label="Current owner passphrase" error={errors.current}>
          {(control) => <input {...control} type="password" value={current} onChange={(event) => setCurrent(event.target.value)} required autoComplete="current-password" />}
        </Field>
      ) : null}
      <Field label={passphraseSet ? 'New owner passphrase' : 'Owner passphrase'} hint="A few unrelated words are strong and easy to type. It cannot be recovered." error={errors.passphrase}>
        {(control) => <input {...control} type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} required autoComplete="new-password" />}
      </Field>
      <Field label={passphraseSet ? 'Repeat the new owner passphrase' : 'Repeat the owner passphrase'} error={errors.repeat}>
        {(control) => <input {...control} type="password" value={repeat} onChange={(event) => setRepeat(event.target.value)} required autoComplete="new-password" />}
      </Field>
      <ErrorBanner message={errors.other} />
      <div className={onCancel ? 'dialog-actions' : undefined}>
        {onCancel ? <button type="button" className="button-secondary" onClick={onCancel}>Cancel</button> : null}
        <button type="submit" disabled={busy}>{passphraseSet ? 'Change the passphrase' : 'Set the passphrase'}</button>
      </div>
      {done ? <Notice>{done}</Notice> : null}
    </form>
  );
}

/** The broker's refusal, at the field it is about. */
function placeError(caught: unknown): Errors {
  const message = caught instanceof Error ? sentence(caught.message) : 'Something went wrong.';
  if (!(caught instanceof ApiError)) return { other: message };
  if (caught.code === 'weak_passphrase') return { passphrase: message };
  if (caught.code === 'wrong_passphrase' || caught.status === 429) return { current: message };
  return { other: message };
}
