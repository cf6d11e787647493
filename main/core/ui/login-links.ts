import type { AuditLog } from '../audit/audit-log.js';
import { DirectoryError } from '../directory/errors.js';
import type { Users } from '../directory/users.js';
import { isSafeNext, type UiSessions } from '../consent/ui-sessions.js';

export interface LoginLink {
  url: string;
  expiresAt: string;
  firstRun: boolean;
}

/**
 * One-time links to a UI session for the owner, audited (the shell opens or prints one, as `latchkey
 * login-url` does). Before there is an owner, a first-run link: its session sets the owner up.
 */
export class LoginLinks {
  constructor(private readonly users: Users, private readonly sessions: UiSessions, private readonly audit: AuditLog, private readonly transaction: <T>(work: () => T) => T) {}

  /**
   * Null while the owner is disabled. `next` may only lead back to this broker's authorization endpoint, and
   * only once there is an owner (a first-run session has no one to consent as).
   */
  create(issuer: string, next?: string): LoginLink | null {
    if (next !== undefined && !isSafeNext(next)) throw new DirectoryError('next: must be a relative path to /oauth2/authorize on this broker');
    const owner = this.users.owner();
    if (!owner && next !== undefined) throw new DirectoryError('there is no owner yet: open a first-run link (without next) and set up the owner first', 409);
    if (owner && !owner.enabled) return null;
    const link = this.transaction(() => {
      const created = this.sessions.createLoginLink(owner?.id ?? null);
      this.audit.append({ event: 'ui.login_link_created', decision: 'info', reason: 'admin change', subject: owner?.id ?? null, detail: owner ? null : { first_run: true } });
      return created;
    });
    return { url: `${issuer}/ui/login?${new URLSearchParams({ token: link.secret, ...(next ? { next } : {}) })}`, expiresAt: new Date(link.expiresAt).toISOString(), firstRun: owner === null };
  }
}
