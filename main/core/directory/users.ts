import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { newId } from '../store/credentials.js';

export interface User {
  id: string;
  name: string;
  email: string;
  isOwner: boolean;
  enabled: boolean;
  createdAt: number;
}

interface UserRow { id: string; name: string; email: string; is_owner: number; enabled: number; created_at: number }
const fromRow = (row: UserRow): User => ({ id: row.id, name: row.name, email: row.email, isOwner: row.is_owner === 1, enabled: row.enabled === 1, createdAt: row.created_at });

/**
 * Users. Latchkey serves one owner (made by `latchkey setup`); the model allows more. User ids are
 * `usr_…`: they can never equal the `client:…` subject of an autonomous token.
 */
export class Users {
  private readonly byId;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.byId = db.prepare('SELECT * FROM users WHERE id = ?');
  }

  /** First-run setup: creates the owner, or updates the owner's profile when run again. */
  setupOwner({ name, email }: { name: string; email: string }): { user: User; created: boolean } {
    const owner = this.owner();
    if (owner) {
      this.db.prepare('UPDATE users SET name = ?, email = ? WHERE id = ?').run(name, email, owner.id);
      return { user: this.get(owner.id)!, created: false };
    }
    const id = newId('usr');
    this.db.prepare('INSERT INTO users (id, name, email, is_owner, enabled, created_at) VALUES (?, ?, ?, 1, 1, ?)').run(id, name, email, this.clock.now());
    return { user: this.get(id)!, created: true };
  }

  owner(): User | null {
    const row = this.db.prepare('SELECT * FROM users WHERE is_owner = 1 LIMIT 1').get() as UserRow | undefined;
    return row ? fromRow(row) : null;
  }

  get(id: string): User | null {
    const row = this.byId.get(id) as UserRow | undefined;
    return row ? fromRow(row) : null;
  }

  /**
   * The user a subject identifier names (impersonation's substitute-user token, issue 4 item 2): a user
   * id, or an email address, compared case-insensitively (the column is NOCASE).
   */
  findByIdentifier(identifier: string): User | null {
    const row = (identifier.startsWith('usr_') ? this.byId.get(identifier) : this.db.prepare('SELECT * FROM users WHERE email = ?').get(identifier)) as UserRow | undefined;
    return row ? fromRow(row) : null;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY created_at').all() as UserRow[]).map(fromRow);
  }
}
