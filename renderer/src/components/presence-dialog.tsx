// "Confirm it's you": the one dialog in which the owner proves presence (issue 12 §1). Mounted once by the
// layout; the API client hands it every call refused with `owner_presence_required`. Calls refused while it
// is open wait for the same answer. Confirm posts the passphrase (`POST /api/owner/presence`) and lets them
// be sent again; Cancel makes them fail with a message that says nothing was changed.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, onPresenceRequired, proveOwnerPresence, type PresenceRequest } from '../api.js';
import { formatTime } from '../time.js';
import { Dialog } from './confirm-dialog.js';
import { Field } from './field.js';

/** What the refused call would have done, in words that finish "Type your owner passphrase to …". */
const ACTIONS: [method: string, path: RegExp, words: string][] = [
  ['POST', /^\/approvals\/[^/]+\/approve$/, 'approve an agent\'s request'],
  ['POST', /^\/agents\/pause$/, 'resume all agents'],
  ['POST', /^\/vault\/unlock$/, 'unlock the vault'],
  ['POST', /^\/applications$/, 'create an application'],
  ['PATCH', /^\/applications\/[^/]+$/, 'change an application'],
  ['POST', /^\/applications\/[^/]+\/enable$/, 'enable an application'],
  ['POST', /^\/applications\/[^/]+\/api-keys$/, 'create an API key'],
  ['POST', /^\/resources$/, 'add a resource'],
  ['POST', /^\/resources\/secret$/, 'store a resource\'s secret'],
  ['POST', /^\/providers$/, 'add a provider'],
  ['POST', /^\/providers\/[^/]+\/connect$/, 'connect an account at a provider'],
  ['POST', /^\/policies$/, 'add or change a policy'],
  ['POST', /^\/consents$/, 'grant consent'],
  ['POST', /^\/keys\/rotate$/, 'rotate the signing key'],
  ['POST', /^\/owner\/passphrase$/, 'change the owner passphrase'],
];

export function describeAction({ method, path }: PresenceRequest): string {
  const bare = path.split('?')[0]!;
  return ACTIONS.find(([m, pattern]) => m === method && pattern.test(bare))?.[2] ?? `make this change (${method} /api${bare})`;
}

/** The message a call fails with when the owner declines to confirm. */
export const PRESENCE_CANCELLED = 'Not done: this needs your owner passphrase, and confirming it was cancelled. Nothing was changed.';

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
}

export function PresenceDialog() {
  // The calls waiting for the answer: a ref (settled exactly once, whatever closes the dialog), drawn from `shown`.
  const waiting = useRef<Waiting[]>([]);
  const [shown, setShown] = useState<PresenceRequest | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Where focus was when the dialog opened: it goes back there after.
  const returnFocus = useRef<HTMLElement | null>(null);

  useEffect(() => onPresenceRequired((request) => new Promise<void>((resolve, reject) => {
    if (waiting.current.length === 0) {
      returnFocus.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      setShown(request);
    }
    waiting.current.push({ resolve, reject });
  })), []);

  const finish = (outcome: 'proven' | 'cancelled') => {
    const settled = waiting.current;
    if (settled.length === 0) return;
    waiting.current = [];
    for (const entry of settled) {
      if (outcome === 'proven') entry.resolve();
      else entry.reject(new ApiError(403, 'presence_cancelled', PRESENCE_CANCELLED));
    }
    setShown(null);
    setPassphrase('');
    setError(null);
    const target = returnFocus.current;
    returnFocus.current = null;
    // After the <dialog> has closed: it restores focus itself, but not to a control disabled meanwhile.
    requestAnimationFrame(() => { if (target?.isConnected && document.activeElement !== target) target.focus(); });
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await proveOwnerPresence(passphrase);
      finish('proven');
    } catch (caught) {
      setError(presenceFailure(caught));
      setPassphrase('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={shown !== null} title="Confirm it's you" onClose={() => finish('cancelled')}>
      {shown ? (
        <form onSubmit={(event) => void confirm(event)}>
          <p>Type your owner passphrase to <strong>{describeAction(shown)}</strong>.</p>
          <p className="muted">Agents on this computer can reach Latchkey as you do, but only you know this passphrase. It is not asked again for 5 minutes.</p>
          <Field label="Owner passphrase" error={error}>
            {(control) => <input {...control} type="password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} required autoComplete="current-password" autoFocus />}
          </Field>
          <div className="dialog-actions">
            <button type="button" className="button-secondary" onClick={() => finish('cancelled')}>Cancel</button>
            <button type="submit" disabled={busy}>Confirm</button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}

/** A failed proof, in the broker's words as a sentence (a wrong passphrase; too many of them, and until when). */
export function presenceFailure(caught: unknown): string {
  if (!(caught instanceof Error)) return 'Something went wrong.';
  const said = sentence(caught.message);
  // The broker usually says when ("try again in 30 s"); when it does not, Retry-After does.
  if (caught instanceof ApiError && caught.status === 429 && caught.retryAfter !== null && !/try again/i.test(said)) return `${said} Try again after ${formatTime(Date.now() + caught.retryAfter * 1000)}.`;
  return said;
}

/** The broker's lower-case descriptions ("that is not the owner passphrase") as a sentence. */
export const sentence = (text: string): string => {
  const trimmed = text.trim();
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}${/[.!?]$/.test(trimmed) ? '' : '.'}`;
};
