import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { newId } from '../store/credentials.js';
import { DirectoryError } from '../directory/errors.js';
import type { Db } from '../store/database.js';
import { type PolicyEngine, PolicyInvalid, type PolicyText } from './policy-engine.js';

export interface StoredPolicy {
  id: string;
  text: string;
  description: string | null;
  /** The application whose impersonation permit this is (`app update --allow-impersonation`), if any. */
  clientId: string | null;
  addedVersion: number;
  createdAt: number;
}

interface PolicyRow { id: string; text: string; description: string | null; client_id: string | null; added_version: number; created_at: number }
const fromRow = (row: PolicyRow): StoredPolicy => ({ id: row.id, text: row.text, description: row.description, clientId: row.client_id, addedVersion: row.added_version, createdAt: row.created_at });

/** A policy file may hold several statements; each gets an id of its own under the row's. */
const statementIds = (id: string, count: number): string[] => (count === 1 ? [id] : Array.from({ length: count }, (_, index) => `${id}.${index + 1}`));

/**
 * The admin's Cedar policies (issue 5 item 1): stored in SQLite, validated against the schema before they are
 * saved, versioned (a removed policy is kept with the version that removed it), every change audited in the
 * same transaction. The engine's set is rebuilt after each committed change, once.
 */
export class Policies {
  constructor(
    private readonly db: Db,
    private readonly engine: PolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {
    this.reload();
  }

  list(): StoredPolicy[] {
    return (this.db.prepare('SELECT * FROM policies WHERE removed_version IS NULL ORDER BY added_version, id').all() as PolicyRow[]).map(fromRow);
  }

  version(): number {
    const row = this.db.prepare('SELECT COALESCE(MAX(added_version), 0) AS added, COALESCE(MAX(removed_version), 0) AS removed FROM policies').get() as { added: number; removed: number };
    return Math.max(row.added, row.removed);
  }

  /** Parses and validates against the schema; throws PolicyInvalid (with lines) otherwise. */
  validate(text: string): { statements: number } {
    return { statements: this.engine.check(text).length };
  }

  add(text: string, description: string | null = null): StoredPolicy {
    return this.write(() => this.insert(text, description, null));
  }

  remove(id: string): StoredPolicy {
    return this.write(() => {
      const row = this.db.prepare('SELECT * FROM policies WHERE id = ? AND removed_version IS NULL').get(id) as PolicyRow | undefined;
      if (!row) throw new DirectoryError('unknown policy', 404);
      const version = this.version() + 1;
      this.db.prepare('UPDATE policies SET removed_version = ?, removed_at = ? WHERE id = ?').run(version, this.clock.now(), id);
      this.audit.append({ event: 'admin.policy_removed', decision: 'info', reason: 'admin change', clientId: row.client_id, detail: { policy_id: id, version } });
      return fromRow(row);
    });
  }

  /**
   * Impersonation needs a policy permit (issue 5 item 1): `app update --allow-impersonation` writes one for
   * the application, `--deny-impersonation` removes it. Runs inside the caller's transaction; call
   * `reload()` after it commits.
   */
  setImpersonationPermit(clientId: string, allowed: boolean): void {
    const existing = this.db.prepare('SELECT id FROM policies WHERE client_id = ? AND removed_version IS NULL').all(clientId) as Array<{ id: string }>;
    if (allowed && existing.length === 0) {
      this.insert(`permit (principal == Application::"${clientId}", action == Action::"impersonation", resource);`, `impersonation permitted for ${clientId}`, clientId);
    } else if (!allowed) {
      for (const { id } of existing) {
        const version = this.version() + 1;
        this.db.prepare('UPDATE policies SET removed_version = ?, removed_at = ? WHERE id = ?').run(version, this.clock.now(), id);
        this.audit.append({ event: 'admin.policy_removed', decision: 'info', reason: 'impersonation denied', clientId, detail: { policy_id: id, version } });
      }
    }
  }

  /** Rebuilds the engine's set from what is stored (once per committed change). */
  reload(): void {
    const admin: PolicyText[] = [];
    for (const policy of this.list()) {
      const statements = this.engine.check(policy.text);
      statementIds(policy.id, statements.length).forEach((id, index) => admin.push({ id, text: statements[index]! }));
    }
    this.engine.load(admin);
  }

  private insert(text: string, description: string | null, clientId: string | null): StoredPolicy {
    const statements = this.engine.check(text);
    const id = newId('pol');
    const version = this.version() + 1;
    const createdAt = this.clock.now();
    this.db.prepare('INSERT INTO policies (id, text, description, added_version, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, text, description, version, clientId, createdAt);
    this.audit.append({
      event: 'admin.policy_added', decision: 'info', reason: clientId ? 'impersonation allowed' : 'admin change', clientId,
      detail: { policy_id: id, version, statements: statementIds(id, statements.length) },
    });
    return { id, text, description, clientId, addedVersion: version, createdAt };
  }

  /** One transaction for the row and its audit row; the engine's set changes only once it has committed. */
  private write<T>(work: () => T): T {
    const result = this.db.transaction(work).immediate();
    this.reload();
    return result;
  }
}

export { PolicyInvalid };
