// Every page of the UI, in the order of the navigation. A page is one file under pages/, default
// export a component taking PageProps; add it here and it is routed and in the nav.
import type { ComponentType } from 'react';
import type { SessionView } from '../../shared/admin-api.js';
import Setup from './pages/setup.js';
import Overview from './pages/overview.js';
import Applications from './pages/applications.js';
import Resources from './pages/resources.js';
import Policies from './pages/policies.js';
import Consents from './pages/consents.js';
import Audit from './pages/audit.js';
import Settings from './pages/settings.js';

export interface PageProps {
  /** The rest of the route after the page's own path (`/applications/abc` → `/abc`), or ''. */
  subroute: string;
  session: SessionView;
  /** Reload the session (after setup made the owner). */
  refreshSession: () => Promise<void>;
}

export interface PageEntry {
  path: string;
  title: string;
  component: ComponentType<PageProps>;
}

export const PAGES: readonly PageEntry[] = [
  { path: '/', title: 'Overview', component: Overview },
  { path: '/setup', title: 'First-run setup', component: Setup },
  { path: '/applications', title: 'Applications', component: Applications },
  { path: '/resources', title: 'Resources & providers', component: Resources },
  { path: '/policies', title: 'Policies', component: Policies },
  { path: '/consents', title: 'Consents & approvals', component: Consents },
  { path: '/audit', title: 'Audit log', component: Audit },
  { path: '/settings', title: 'Settings', component: Settings },
];

/** The page a route shows, and the rest of the route. Unknown routes are null (the app shows "not found"). */
export function pageFor(route: string): { page: PageEntry; subroute: string } | null {
  if (route === '/' || route === '') return { page: PAGES[0]!, subroute: '' };
  for (const page of PAGES) {
    if (page.path === '/') continue;
    if (route === page.path || route.startsWith(`${page.path}/`)) return { page, subroute: route.slice(page.path.length) };
  }
  return null;
}
