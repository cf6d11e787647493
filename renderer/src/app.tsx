// The layout: a skip link, the banner with who is signed in, the navigation, and the page.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionView } from '../../shared/admin-api.js';
import { useAgentPause } from './agent-pause.js';
import { api, ApiError, loadSession, onSignedOut } from './api.js';
import { ErrorBanner } from './components/error-banner.js';
import { PresenceDialog } from './components/presence-dialog.js';
import { PAGES, pageFor } from './pages.js';
import { href, navigate, useRoute } from './router.js';

type SessionState = { kind: 'loading' } | { kind: 'signed-in'; session: SessionView } | { kind: 'signed-out' } | { kind: 'failed'; message: string };

export function App() {
  const route = useRoute();
  const [state, setState] = useState<SessionState>({ kind: 'loading' });

  const refreshSession = useCallback(async () => {
    try {
      setState({ kind: 'signed-in', session: await loadSession() });
    } catch (caught) {
      if (caught instanceof ApiError && caught.signedOut) setState({ kind: 'signed-out' });
      else setState({ kind: 'failed', message: (caught as Error).message });
    }
  }, []);

  useEffect(() => { void refreshSession(); }, [refreshSession]);
  useEffect(() => onSignedOut(() => setState({ kind: 'signed-out' })), []);

  // Before there is an owner, setup is the only page that makes sense.
  useEffect(() => {
    if (state.kind === 'signed-in' && state.session.user === null && route !== '/setup') navigate('/setup');
  }, [state, route]);

  if (state.kind === 'loading') return <p className="loading" role="status">Loading…</p>;
  if (state.kind === 'signed-out') return <SignedOut />;
  if (state.kind === 'failed') return <main className="standalone"><h1>Latchkey</h1><ErrorBanner message={state.message} onRetry={() => void refreshSession()} /></main>;
  return <Layout route={route} session={state.session} refreshSession={refreshSession} />;
}

function Layout({ route, session, refreshSession }: { route: string; session: SessionView; refreshSession: () => Promise<void> }) {
  // Before there is an owner, setup is the only page that makes sense (App moves the URL there too).
  const match = pageFor(session.user === null ? '/setup' : route);
  const Page = match?.page.component;
  const mainRef = useRef<HTMLElement>(null);
  const paused = useAgentPause(route);

  // A new page: its title goes to the document and, after a navigation (not on load, where the skip link
  // comes first), focus goes to its heading, so screen readers hear where they are.
  const loaded = useRef(false);
  useEffect(() => {
    document.title = `${match?.page.title ?? 'Not found'} · Latchkey`;
    if (loaded.current) mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
    loaded.current = true;
  }, [match?.page.path]);

  const signOut = async () => {
    try {
      await api.post('/session/logout');
    } finally {
      window.location.reload();
    }
  };

  return (
    <div className="layout">
      <a className="skip-link" href="#main" onClick={(event) => { event.preventDefault(); mainRef.current?.querySelector<HTMLElement>('h1')?.focus(); }}>Skip to content</a>
      <header className="app-header">
        <span className="brand">Latchkey</span>
        {paused ? <a className="badge badge-danger header-paused" href={href('/')}>All agents paused</a> : null}
        <span className="signed-in">{session.user ? <>Signed in as <strong>{session.user.name}</strong></> : 'First run: no owner yet'}</span>
        {/* The desktop app has no cookie session (csrf_token null): nothing to sign out of. */}
        {session.csrf_token !== null ? <button type="button" className="button-secondary" onClick={() => void signOut()}>Sign out</button> : null}
      </header>
      <nav className="app-nav" aria-label="Main">
        <ul>
          {PAGES.map((page) => (
            <li key={page.path}>
              <a href={href(page.path)} aria-current={match?.page.path === page.path ? 'page' : undefined}>{page.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={mainRef} className="app-main">
        {Page ? <Page subroute={match.subroute} session={session} refreshSession={refreshSession} /> : <NotFound />}
      </main>
      <PresenceDialog />
    </div>
  );
}

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no such page. <a href={href('/')}>Go to the overview</a>.</p>
    </>
  );
}

function SignedOut() {
  return (
    <main className="standalone">
      <h1>Signed out</h1>
      <p>This browser has no Latchkey session (it ended, or was never opened). Sign-in links are opened once and expire in minutes.</p>
      <p>Get a new link in a terminal, in the repository:</p>
      <pre className="snippet"><code>npx latchkey login-url</code></pre>
    </main>
  );
}
