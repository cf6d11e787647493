// Loading data from the admin API in a page: the value, the error, and a reload.
import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { ApiError } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => Promise<void>;
  /** Replace the value locally (after a change the server confirmed, or a live event): a value or an update of the current one. */
  set: Dispatch<SetStateAction<T | undefined>>;
}

/** Runs `load` on mount and on `reload()`. Errors are ApiErrors with a message fit for the page. */
export function useRequest<T>(load: () => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await run());
      setError(null);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'error', (caught as Error).message));
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => { void reload(); }, [reload]);
  return { data, error, loading, reload, set: setData };
}

/** The message of anything thrown by an admin-API call, for an error banner. */
export function messageOf(caught: unknown): string {
  return caught instanceof Error ? caught.message : 'Something went wrong.';
}
