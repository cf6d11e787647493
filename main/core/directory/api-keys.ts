import { API_KEY_PREFIX } from '../../../shared/domain.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import { hashSecret, newId, randomSecret } from '../store/credentials.js';
import { DirectoryError } from './errors.js';

const API_KEY_SHAPE = /^lk_sk_[A-Za-z0-9_-]{43}$/;

/** An API key as the admin sees it: whose it is and whether it still works; never the key. */
export interface ApiKey {
  id: string;
  clientId: string;
  createdAt: number;
  revokedAt: number | null;
}

interface ApiKeyRow { id: string; client_id: string; created_at: number; revoked_at: number | null }
const fromRow = (row: ApiKeyRow): ApiKey => ({ id: row.id, clientId: row.client_id, createdAt: row.created_at, revokedAt: row.revoked_at });

/** API keys (`lk_sk_…`): many per application, each revocable, stored only as SHA-256 hashes. */
export class ApiKeys {
  private readonly byHash;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.byHash = db.prepare('SELECT client_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL');
  }

  create(clientId: string): { id: string; apiKey: string } {
    const app = this.db.prepare('SELECT client_type FROM applications WHERE client_id = ?').get(clientId) as { client_type: string } | undefined;
    if (!app) throw new DirectoryError(`unknown application: ${clientId}`, 404);
    if (app.client_type === 'public') throw new DirectoryError('a public client cannot hold an API key');
    const id = newId('key');
    const apiKey = `${API_KEY_PREFIX}${randomSecret()}`;
    this.db.prepare('INSERT INTO api_keys (id, client_id, key_hash, created_at) VALUES (?, ?, ?, ?)').run(id, clientId, hashSecret(apiKey), this.clock.now());
    return { id, apiKey };
  }

  /**
   * The application an active key belongs to, or null. The lookup is by SHA-256 of the presented key:
   * a timing difference in the index lookup says nothing about any stored key.
   */
  resolve(presented: string): string | null {
    if (!API_KEY_SHAPE.test(presented)) return null;
    const row = this.byHash.get(hashSecret(presented)) as { client_id: string } | undefined;
    return row?.client_id ?? null;
  }

  /** Revokes a key (again: nothing changes); the key as it was before. */
  revoke(id: string): ApiKey {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as ApiKeyRow | undefined;
    if (!row) throw new DirectoryError(`unknown API key: ${id}`, 404);
    if (row.revoked_at === null) this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(this.clock.now(), id);
    return fromRow(row);
  }

  /** Every key, or one application's (an empty client id: every key). */
  list(clientId?: string): ApiKey[] {
    const rows = (clientId
      ? this.db.prepare('SELECT * FROM api_keys WHERE client_id = ? ORDER BY created_at').all(clientId)
      : this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all()) as ApiKeyRow[];
    return rows.map(fromRow);
  }
}
