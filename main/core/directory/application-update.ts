import type { AuditLog } from '../audit/audit-log.js';
import type { Application, ApplicationChanges, ApplicationUpdate, Applications } from './applications.js';

/**
 * The policy that lets an application impersonate users (issue 5 item 1): the policy layer writes it when
 * the admin allows impersonation and removes it when the admin denies it. Reloaded once the change is committed.
 */
export interface ImpersonationPermits {
  setImpersonationPermit(clientId: string, allowed: boolean): void;
  reload(): void;
}

export interface ApplicationUpdateDeps {
  applications: Applications;
  audit: AuditLog;
  permits: ImpersonationPermits;
  transaction: <T>(work: () => T) => T;
  /** Revokes the application's live access tokens for resources it no longer depends on (dependency-removal.ts). */
  endAccessToRemovedResources: (clientId: string, resources: readonly string[]) => number;
}

/**
 * Changes what `app create` set (issue 4 item 2, issue 6 item 1), in one transaction: the change, one audit
 * row saying what changed, the end of what was issued for removed resources, and, when the permission to
 * impersonate changes, a row of its own and the permitting policy.
 */
export function updateApplication(deps: ApplicationUpdateDeps, clientId: string, update: ApplicationUpdate): { application: Application; changes: ApplicationChanges } {
  const updated = deps.transaction(() => {
    const result = deps.applications.update(clientId, update);
    const revoked = deps.endAccessToRemovedResources(clientId, result.changes.resources_removed ?? []);
    deps.audit.append({ event: 'admin.application_updated', decision: 'info', reason: 'admin change', clientId,
      detail: { changes: result.changes, ...(result.changes.resources_removed ? { access_tokens_revoked: revoked } : {}) } });
    const impersonation = result.changes.allow_impersonation;
    if (impersonation) {
      deps.audit.append({ event: impersonation.to ? 'admin.impersonation_allowed' : 'admin.impersonation_denied', decision: 'info', reason: 'admin change', clientId,
        detail: { allow_impersonation: impersonation.to, consent_mode: result.application.consentMode } });
      deps.permits.setImpersonationPermit(clientId, impersonation.to);
    }
    return result;
  });
  if (updated.changes.allow_impersonation) deps.permits.reload();
  return updated;
}
