import { useState } from 'react';

/** Copies a value to the clipboard and says so. `label` names what is copied, for screen readers. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 2_000);
  };
  return (
    <button type="button" className="button-secondary copy-button" onClick={() => void copy()} aria-label={`Copy ${label}`}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy' : 'Copy'}
      <span className="visually-hidden" aria-live="polite">{state === 'copied' ? `${label} copied` : ''}</span>
    </button>
  );
}

/** A value shown once (a client secret, an API key): in a read-only box with a copy button. */
export function SecretValue({ value, label }: { value: string; label: string }) {
  return (
    <div className="secret-value">
      <code aria-label={label}>{value}</code>
      <CopyButton value={value} label={label} />
    </div>
  );
}
