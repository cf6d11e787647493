import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog (the platform's <dialog>: focus moves in and is kept there, Escape closes it). Used
 * for forms and confirmations; `onClose` runs however it is closed.
 */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      <h2 id={titleId}>{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

/** Asks before something that cannot be undone; Cancel is where focus starts. */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel, busy = false }: {
  open: boolean; title: string; children: ReactNode; confirmLabel: string; onConfirm: () => void; onCancel: () => void; busy?: boolean;
}) {
  return (
    <Dialog open={open} title={title} onClose={onCancel}>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel} autoFocus>Cancel</button>
        <button type="button" className="button-danger" onClick={onConfirm} disabled={busy}>{confirmLabel}</button>
      </div>
    </Dialog>
  );
}
