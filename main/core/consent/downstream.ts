import { GRANT_TYPES } from '../../../shared/domain.js';
import type { Applications } from '../directory/applications.js';
import type { Resources } from '../directory/resources.js';

/**
 * One hop of a consent's downstream tree (issue 4 item 1): the application serving a consented (or
 * downstream) resource may exchange the user's token for a token to `resource`, with at most `scopes`.
 * `depth` is the delegation depth of the token that hop yields (1 = the first exchange).
 */
export interface DownstreamHop {
  depth: number;
  clientId: string;
  resource: string;
  scopes: string[];
}

/** As stored in consents.downstream and authorization_requests.downstream. */
interface StoredHop {
  depth: number;
  client_id: string;
  resource: string;
  scopes: string[];
}

export const serializeDownstream = (hops: readonly DownstreamHop[]): string =>
  JSON.stringify(hops.map((hop): StoredHop => ({ depth: hop.depth, client_id: hop.clientId, resource: hop.resource, scopes: hop.scopes })));

export const parseDownstream = (json: string): DownstreamHop[] =>
  (JSON.parse(json) as StoredHop[]).map((hop) => ({ depth: hop.depth, clientId: hop.client_id, resource: hop.resource, scopes: hop.scopes }));

/**
 * What approving `roots` for a user also covers: each root's serving application (`served_by`) may reach
 * its own dependencies, their serving applications theirs, and so on, down to `maxDepth` exchanges. The
 * scopes of a hop are what that application may have of that resource (the resource's scopes ∩ the
 * application's allowed scopes): scopes belong to resources, so a chain narrows by what each hop was
 * approved for, not by the scope of the token it started from. Applications that are disabled or not
 * registered for token exchange take no hop. Each (application, resource) pair appears once, at the
 * smallest depth; a resource already in the tree is not followed again (no cycles).
 */
export function downstreamTree(roots: readonly string[], maxDepth: number, applications: Applications, resources: Resources): DownstreamHop[] {
  const hops: DownstreamHop[] = [];
  const seenHops = new Set<string>();
  const followed = new Set<string>(roots);
  let frontier = [...new Set(roots)];
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const identifier of frontier) {
      const servedBy = resources.get(identifier)?.servedBy ?? null;
      const app = servedBy ? applications.get(servedBy) : null;
      if (!app?.enabled || !app.grantTypes.includes(GRANT_TYPES.tokenExchange)) continue;
      for (const dependency of applications.dependencies(app.clientId)) {
        const target = resources.get(dependency);
        if (!target) continue;
        const key = `${app.clientId} ${dependency}`;
        if (!seenHops.has(key)) {
          seenHops.add(key);
          hops.push({ depth, clientId: app.clientId, resource: dependency, scopes: app.scopes === null ? target.scopes : target.scopes.filter((scope) => app.scopes!.includes(scope)) });
        }
        if (!followed.has(dependency)) {
          followed.add(dependency);
          next.push(dependency);
        }
      }
    }
    frontier = next;
  }
  return hops;
}

/** The hop of a tree that lets `clientId` reach `resource`, if any. */
export function findHop(hops: readonly DownstreamHop[], clientId: string, resource: string): DownstreamHop | undefined {
  return hops.find((hop) => hop.clientId === clientId && hop.resource === resource);
}

/** Whether an approved tree covers every hop (and its scopes) of another. */
export function coversTree(approved: readonly DownstreamHop[], wanted: readonly DownstreamHop[]): boolean {
  return wanted.every((hop) => {
    const granted = findHop(approved, hop.clientId, hop.resource);
    return granted !== undefined && hop.scopes.every((scope) => granted.scopes.includes(scope));
  });
}
