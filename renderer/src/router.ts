// Hash routing (`#/applications`): the broker serves one page at /ui/ and needs no fallback for paths.
import { useEffect, useState } from 'react';

/** The route of the current URL: `#/applications/abc` → `/applications/abc`. */
export function currentRoute(): string {
  const hash = window.location.hash.replace(/^#/, '');
  return hash.startsWith('/') ? hash : '/';
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function navigate(route: string): void {
  window.location.hash = `#${route}`;
}

/** The href of a route, for links. */
export const href = (route: string): string => `#${route}`;
