import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Applications } from '../directory/applications.js';
import { DirectoryError } from '../directory/errors.js';
import type { Resources } from '../directory/resources.js';
import type { Users } from '../directory/users.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { Consent, Consents } from './consents.js';
import { downstreamTree } from './downstream.js';

/** What the user grants: an application, the user (default: the owner), resources, and at most these scopes. */
export interface BackgroundGrant {
  clientId: string;
  /** Undefined: the owner. */
  userId?: string | undefined;
  resources: readonly string[];
  /** Undefined: every scope the application may have for these resources. */
  scopes?: readonly string[] | undefined;
}

export interface BackgroundAccessDeps {
  consents: Consents;
  families: TokenFamilies;
  applications: Applications;
  resources: Resources;
  users: Users;
  audit: AuditLog;
  clock: Clock;
}

/**
 * The user's background-access grant (issue 4 item 2d, `latchkey consent grant --background`): the
 * application may act for the user without them, by impersonation, for these resources (its dependencies)
 * with at most these scopes (default: all it may have there). The grant is a consent marked `background`
 * backing one token family: every token issued under it joins that family, so withdrawing the grant
 * (`latchkey consent revoke`) revokes them and what was exchanged from them, as for any consent. It also
 * keeps the downstream tree its resources reach, so an impersonated token can be exchanged onward like a
 * token the user got interactively. Whether the application may use it at all (the admin's permission,
 * implicit consent mode, the socket) is checked at each exchange. Call within a transaction.
 */
export function grantBackgroundAccess(deps: BackgroundAccessDeps, request: BackgroundGrant): { consent: Consent; created: boolean } {
  const app = deps.applications.get(request.clientId);
  if (!app) throw new DirectoryError(`unknown application: ${request.clientId}`, 404);
  if (app.clientType !== 'confidential') throw new DirectoryError('a public client cannot act for a user in the background: it cannot prove who it is');
  const user = request.userId === undefined ? deps.users.owner() : deps.users.get(request.userId);
  if (!user) throw new DirectoryError(request.userId === undefined ? 'there is no owner yet: run `latchkey setup` first' : `unknown user: ${request.userId}`, request.userId === undefined ? 409 : 404);

  const resources = [...new Set(request.resources)];
  const allowed = new Set<string>();
  for (const identifier of resources) {
    const resource = deps.resources.get(identifier);
    if (!resource) throw new DirectoryError(`unknown resource: ${identifier}`);
    if (!deps.applications.hasDependency(app.clientId, identifier)) throw new DirectoryError(`${identifier} is not a resource of ${app.clientId}: add it first (latchkey app update ${app.clientId} --resource ${identifier})`);
    for (const scope of resource.scopes) if (app.scopes === null || app.scopes.includes(scope)) allowed.add(scope);
  }
  const scopes = request.scopes === undefined ? [...allowed] : [...new Set(request.scopes)];
  for (const scope of scopes) if (!allowed.has(scope)) throw new DirectoryError(`scope ${scope} is not one the application may have for these resources`);

  // The impersonated token is the chain's first exchange already: what follows it has one hop less.
  const downstream = downstreamTree(resources, Math.max(0, app.maxDelegationDepth - 1), deps.applications, deps.resources);
  const granted = deps.consents.grantBackground(user.id, app.clientId, resources, scopes, downstream);
  if (!granted.created) return granted;
  const familyId = deps.families.newId();
  deps.families.create(familyId, { clientId: app.clientId, userId: user.id, consentId: granted.consent.id, scopes: granted.consent.scopes, resources: granted.consent.resources, authTime: deps.clock.now() });
  deps.audit.append({ event: 'consent.granted', decision: 'info', clientId: app.clientId, subject: user.id, reason: 'background access granted',
    detail: { consent_id: granted.consent.id, background: true, resources: granted.consent.resources, scopes: granted.consent.scopes, token_family: familyId } });
  return granted;
}
