// "Pause all agents", as the UI knows it: one value shared by the Overview's switch and the header's
// indicator. Read from `GET /api/status` (`agents_paused`); the switch also flips from the tray or the CLI,
// so the layout reads it again on every navigation and the Overview on every `agents.*` audit row.
import { useEffect, useState } from 'react';
import type { StatusView } from '../../shared/admin-api.js';
import { api } from './api.js';

let paused: boolean | null = null;
const listeners = new Set<(value: boolean) => void>();

function publish(value: boolean): void {
  paused = value;
  for (const listener of listeners) listener(value);
}

/** Reads the switch from the broker. */
export async function refreshAgentPause(): Promise<void> {
  publish((await api.get<StatusView>('/status')).agents_paused);
}

/** Throws the switch; resolves with the state the broker reports. */
export async function setAgentsPaused(value: boolean): Promise<boolean> {
  const answer = await api.post<{ paused: boolean }>('/agents/pause', { paused: value });
  publish(answer.paused);
  return answer.paused;
}

/** Whether agents are paused (null until known); `key` re-reads it when it changes (the route). */
export function useAgentPause(key?: unknown): boolean | null {
  const [value, setValue] = useState<boolean | null>(paused);
  useEffect(() => {
    listeners.add(setValue);
    return () => { listeners.delete(setValue); };
  }, []);
  useEffect(() => {
    // A failure here is the page's to show (it makes the same calls); the indicator just stays as it was.
    refreshAgentPause().catch(() => undefined);
  }, [key]);
  return value;
}
