// The one admin-API client of the UI. Relative URLs (`/api/...`): the same bundle runs in a browser
// against the headless broker and in Electron, whose shell forwards `/api/*` to the broker. The session
// cookie goes along by itself (HttpOnly: this code never sees it); every request that changes anything
// carries the session's CSRF token, learnt from `GET /api/session`. In the desktop app there is no cookie
// session: the shell adds the admin token, the session's token is null, and no CSRF header is sent (a
// Bearer request cannot come from a web page, so it needs none).
//
// Owner presence (issue 12 §1): once the owner has set a passphrase, a call that loosens anything is refused
// 403 `owner_presence_required` until this session proves the owner is here. The client hands that refusal to
// the presence dialog (`onPresenceRequired`), which asks for the passphrase and posts `/owner/presence`; the
// call is then sent again, once, so the click that made it completes.
import { CSRF_HEADER, OWNER_PRESENCE_REQUIRED, type OwnerView, type PresenceProof, type SessionView } from '../../shared/admin-api.js';

/** An admin-API refusal: the HTTP status and the OAuth-style error the broker sent. */
export class ApiError extends Error {
  /** `retryAfter`: seconds, from a 429's Retry-After header. */
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfter: number | null = null) {
    super(message);
  }

  /** The session is gone (expired, signed out, or never opened): the UI says how to get a new link. */
  get signedOut(): boolean {
    return this.status === 401;
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A call refused for want of owner presence: what it was (the dialog says it in words). */
export interface PresenceRequest {
  method: Method;
  path: string;
}

/** Asks the owner to prove presence; resolves once proven, rejects (with the message to show) when declined. */
type PresenceAsker = (request: PresenceRequest) => Promise<void>;
let askForPresence: PresenceAsker | null = null;

/** The presence dialog registers itself here; without one, the refusal is thrown as it is. */
export function onPresenceRequired(asker: PresenceAsker): () => void {
  askForPresence = asker;
  return () => { if (askForPresence === asker) askForPresence = null; };
}

/** The session's CSRF token; null when it is not known yet, or the UI runs without a cookie session. */
let csrfToken: string | null = null;
let sessionKnown = false;
const signedOutListeners = new Set<() => void>();

/** Called when any request finds the session gone. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  try {
    return await send<T>(method, path, body);
  } catch (caught) {
    if (!(caught instanceof ApiError) || caught.code !== OWNER_PRESENCE_REQUIRED || askForPresence === null) throw caught;
    await askForPresence({ method, path });
    // Once: a second refusal (the window closed meanwhile) is shown as it is.
    return send<T>(method, path, body);
  }
}

async function send<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    if (!sessionKnown) await loadSession();
    if (csrfToken !== null) headers[CSRF_HEADER] = csrfToken;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'unreachable', 'Latchkey is not answering. Is the broker still running?');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  if (!response.ok) {
    const error = (parsed ?? {}) as { error?: string; error_description?: string };
    const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
    const failure = new ApiError(response.status, error.error ?? 'error', error.error_description ?? `The request failed (${response.status}).`, Number.isFinite(retryAfter) ? retryAfter : null);
    if (failure.signedOut) {
      csrfToken = null;
      sessionKnown = false;
      for (const listener of signedOutListeners) listener();
    }
    throw failure;
  }
  return parsed as T;
}

/** The signed-in session; keeps its CSRF token for the requests that follow. */
export async function loadSession(): Promise<SessionView> {
  const session = await request<SessionView>('GET', '/session');
  csrfToken = session.csrf_token;
  sessionKnown = true;
  return session;
}

/**
 * Before something the browser fetches on its own (a download link), where no 403 can reach the dialog: when
 * the owner has a passphrase and this session is not present, ask for it first.
 */
export async function ensureOwnerPresent(method: Method, path: string): Promise<void> {
  const owner = await send<OwnerView>('GET', '/owner');
  if (owner.passphrase_set && owner.present_until === null && askForPresence !== null) await askForPresence({ method, path });
}

/** Proves the owner's presence for this session (5 minutes); never retried through the presence dialog. */
export function proveOwnerPresence(passphrase: string): Promise<PresenceProof> {
  return send<PresenceProof>('POST', '/owner/presence', { passphrase });
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A path segment from a value (client ids, ids): never lets a value change the path. */
export const segment = (value: string): string => encodeURIComponent(value);
