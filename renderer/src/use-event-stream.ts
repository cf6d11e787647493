// Live updates: one server-sent-events stream of the admin API (`/api/approvals/events`,
// `/api/audit/events`), reopened after a drop. The browser sends the session cookie with it; a stream
// changes nothing, so it needs no CSRF token.
import { useEffect, useRef, useState } from 'react';

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 30_000;

export type StreamState = 'connecting' | 'open' | 'retrying';

/**
 * Subscribes to `event` on the stream at `path` while the component is mounted. `onEvent` gets each
 * event's data parsed as JSON; `onOpen` runs on every (re)connection, the moment to reload what the
 * stream may have missed. EventSource retries a dropped stream itself; when the broker refuses it
 * (restarted, signed out), it gives up, and this reopens it with a growing delay.
 */
export function useEventStream<T>(path: string, event: string, onEvent: (data: T) => void, onOpen?: () => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handlers = useRef({ onEvent, onOpen });
  handlers.current = { onEvent, onOpen };

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = FIRST_RETRY_MS;
    let stopped = false;

    const connect = () => {
      source = new EventSource(path, { withCredentials: true });
      source.addEventListener('open', () => {
        delay = FIRST_RETRY_MS;
        setState('open');
        handlers.current.onOpen?.();
      });
      source.addEventListener(event, (message) => {
        try {
          handlers.current.onEvent(JSON.parse((message as MessageEvent<string>).data) as T);
        } catch {
          // A malformed event is dropped; the next reload shows the truth.
        }
      });
      source.addEventListener('error', () => {
        if (stopped) return;
        setState('retrying');
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(connect, delay);
          delay = Math.min(delay * 2, LAST_RETRY_MS);
        }
      });
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [path, event]);

  return state;
}
