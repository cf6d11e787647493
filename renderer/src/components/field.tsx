import { useId, type ReactNode } from 'react';

/**
 * A labelled form control with its hint and error, wired for screen readers (aria-describedby,
 * aria-invalid). `children` gets the control's id and its described-by ids.
 */
export function Field({ label, hint, error, children }: {
  label: string;
  hint?: ReactNode;
  error?: string | null | undefined;
  children: (control: { id: string; 'aria-describedby': string | undefined; 'aria-invalid': boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint ? <p id={hintId} className="field-hint">{hint}</p> : null}
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': Boolean(error) })}
      {error ? <p id={errorId} className="field-error">{error}</p> : null}
    </div>
  );
}
