import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../store/database.js';
import { TemporarilyUnavailable } from '../oauth/errors.js';

const PAUSED = 'agents.paused';
const RESUMED = 'agents.resumed';

/**
 * "Pause all agents" (issue 6): a broker-wide switch the user throws from the tray or the UI when an agent
 * misbehaves. While it is on, every issuance is refused before anything is read or spent (the token
 * endpoint on both listeners, backchannel authentication); introspection, revocation and the admin API go on.
 *
 * It survives a restart: the user paused because something was wrong, and a crash, a reboot or an
 * auto-start must not quietly let agents back in. The switch's state is its last audit row, so it needs no
 * table of its own and cannot be flipped without breaking the audit log's hash chain.
 */
export class AgentPause {
  private on: boolean;

  constructor(private readonly db: Db, private readonly audit: AuditLog) {
    // The newest switch wins. Audit rows of the switch name no client, so the (client_id, seq) index serves.
    const last = db.prepare(`SELECT event FROM audit_log WHERE client_id IS NULL AND event IN ('${PAUSED}', '${RESUMED}') ORDER BY seq DESC LIMIT 1`)
      .get() as { event: string } | undefined;
    this.on = last?.event === PAUSED;
  }

  get paused(): boolean {
    return this.on;
  }

  /** Throws the switch; audited when it changes. Returns the state now. */
  set(paused: boolean, by: string): boolean {
    if (paused === this.on) return this.on;
    // Fail closed: a pause holds even if its row cannot be written; a resume happens only once it is.
    if (paused) this.on = true;
    this.audit.record({ event: paused ? PAUSED : RESUMED, decision: 'info', reason: `${paused ? 'paused' : 'resumed'} by ${by}` });
    this.on = paused;
    return this.on;
  }

  /** Refuses while paused with RFC 6749 §4.1.2.1's temporarily_unavailable (503): not now, nothing wrong with the request. */
  check(): void {
    if (this.on) throw new TemporarilyUnavailable('agents are paused by the user', { reason: 'agents paused' });
  }
}
