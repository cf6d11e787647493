import type { ReactNode } from 'react';

/** A failure, announced to screen readers as it appears. The message is the broker's, shown as text. */
export function ErrorBanner({ message, children, onRetry }: { message: string | null | undefined; children?: ReactNode; onRetry?: () => void }) {
  if (!message) return null;
  return (
    <div className="banner banner-error" role="alert">
      <p>{message}</p>
      {children}
      {onRetry ? <button type="button" className="button-secondary" onClick={onRetry}>Try again</button> : null}
    </div>
  );
}

/** A calm notice (success, or something to know), announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  return <div className="banner banner-notice" role="status">{children}</div>;
}
