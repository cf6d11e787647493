import type { AuditLog } from '../audit/audit-log.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { Clock } from '../clock.js';
import { newId } from '../store/credentials.js';
import type { Db } from '../store/database.js';
import { coversTree, parseDownstream, serializeDownstream, type DownstreamHop } from './downstream.js';

export interface Consent {
  id: string;
  userId: string;
  clientId: string;
  resources: string[];
  scopes: string[];
  /** The downstream hops the approval also covers (issue 4 item 1): what the resources' serving applications may reach in turn. */
  downstream: DownstreamHop[];
  /** Whether the user asked to be spared the next prompt for the same request. */
  remembered: boolean;
  /** When `remembered` lapses (epoch ms); null: until withdrawn. */
  rememberedUntil: number | null;
  /**
   * A background-access grant (issue 4 item 2d): the application may act for the user without them, by
   * impersonation. Never used by the authorization endpoint, and never reused for an interactive approval.
   */
  background: boolean;
  createdAt: number;
  revokedAt: number | null;
}

interface ConsentRow {
  id: string;
  user_id: string;
  client_id: string;
  resources: string;
  scopes: string;
  downstream: string;
  remembered: number;
  remembered_until: number | null;
  background: number;
  created_at: number;
  revoked_at: number | null;
}

const fromRow = (row: ConsentRow): Consent => ({
  id: row.id,
  userId: row.user_id,
  clientId: row.client_id,
  resources: JSON.parse(row.resources) as string[],
  scopes: JSON.parse(row.scopes) as string[],
  downstream: parseDownstream(row.downstream),
  remembered: row.remembered === 1,
  rememberedUntil: row.remembered_until,
  background: row.background === 1,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const sorted = (values: readonly string[]): string[] => [...new Set(values)].sort();
const covers = (granted: readonly string[], asked: readonly string[]): boolean => asked.every((value) => granted.includes(value));

/**
 * Consent records (issue 3 items 2 and 9): what an application may do for a user, per (application,
 * user, resources, scopes). Token families hang on a consent; withdrawing it ends them (the caller
 * revokes them in the same transaction).
 */
export class Consents {
  private readonly activeOf;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    // Interactive approvals only: a background-access grant is not something the user approved on a page.
    this.activeOf = db.prepare('SELECT * FROM consents WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL AND background = 0 ORDER BY created_at DESC');
  }

  /**
   * A remembered, still valid consent covering every resource and scope asked for, and the downstream tree
   * those resources reach today (a tree that grew since is shown to the user again), if any.
   */
  findRemembered(userId: string, clientId: string, resources: readonly string[], scopes: readonly string[], downstream: readonly DownstreamHop[]): Consent | null {
    for (const row of this.activeOf.all(userId, clientId) as ConsentRow[]) {
      const consent = fromRow(row);
      const stillRemembered = consent.remembered && (consent.rememberedUntil === null || consent.rememberedUntil > this.clock.now());
      if (stillRemembered && covers(consent.resources, resources) && covers(consent.scopes, scopes) && coversTree(consent.downstream, downstream)) return consent;
    }
    return null;
  }

  /**
   * Records an approval with the downstream tree the page showed. An active consent for exactly the same
   * resources and scopes is reused (it becomes remembered if asked, and covers the tree just approved);
   * otherwise a new one is made. `rememberedUntil` limits how long it is remembered (null: until withdrawn);
   * a reused consent is never remembered for less than it already was. Call within a transaction.
   */
  record(userId: string, clientId: string, resources: readonly string[], scopes: readonly string[], remembered: boolean, downstream: readonly DownstreamHop[], rememberedUntil: number | null = null): Consent {
    const wantResources = JSON.stringify(sorted(resources));
    const wantScopes = JSON.stringify(sorted(scopes));
    const same = (this.activeOf.all(userId, clientId) as ConsentRow[]).find((row) => row.resources === wantResources && row.scopes === wantScopes);
    if (same) {
      if (remembered) {
        const forever = (same.remembered === 1 && same.remembered_until === null) || rememberedUntil === null;
        const until = forever ? null : Math.max(same.remembered === 1 ? same.remembered_until ?? 0 : 0, rememberedUntil);
        this.db.prepare('UPDATE consents SET remembered = 1, remembered_until = ? WHERE id = ?').run(until, same.id);
      }
      this.db.prepare('UPDATE consents SET downstream = ? WHERE id = ?').run(serializeDownstream(downstream), same.id);
      return this.get(same.id)!;
    }
    const id = newId('cns');
    this.db.prepare('INSERT INTO consents (id, user_id, client_id, resources, scopes, remembered, remembered_until, created_at, downstream) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, userId, clientId, wantResources, wantScopes, remembered ? 1 : 0, remembered ? rememberedUntil : null, this.clock.now(), serializeDownstream(downstream));
    return this.get(id)!;
  }

  /**
   * Records a background-access grant (issue 4 item 2d): the user lets the application act for them without
   * them, for these resources and scopes, and for the downstream hops their serving applications take. An
   * active grant for exactly the same resources and scopes is returned as it is. Call within a transaction.
   */
  grantBackground(userId: string, clientId: string, resources: readonly string[], scopes: readonly string[], downstream: readonly DownstreamHop[]): { consent: Consent; created: boolean } {
    const wantResources = JSON.stringify(sorted(resources));
    const wantScopes = JSON.stringify(sorted(scopes));
    const same = this.db.prepare('SELECT id FROM consents WHERE user_id = ? AND client_id = ? AND background = 1 AND revoked_at IS NULL AND resources = ? AND scopes = ?')
      .get(userId, clientId, wantResources, wantScopes) as { id: string } | undefined;
    if (same) return { consent: this.get(same.id)!, created: false };
    const id = newId('cns');
    this.db.prepare('INSERT INTO consents (id, user_id, client_id, resources, scopes, remembered, background, created_at, downstream) VALUES (?, ?, ?, ?, ?, 0, 1, ?, ?)')
      .run(id, userId, clientId, wantResources, wantScopes, this.clock.now(), serializeDownstream(downstream));
    return { consent: this.get(id)!, created: true };
  }

  /** The user's active background-access grants to an application, newest first. */
  backgroundGrants(userId: string, clientId: string): Consent[] {
    return (this.db.prepare('SELECT * FROM consents WHERE user_id = ? AND client_id = ? AND background = 1 AND revoked_at IS NULL ORDER BY created_at DESC, id')
      .all(userId, clientId) as ConsentRow[]).map(fromRow);
  }

  get(id: string): Consent | null {
    const row = this.db.prepare('SELECT * FROM consents WHERE id = ?').get(id) as ConsentRow | undefined;
    return row ? fromRow(row) : null;
  }

  isActive(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM consents WHERE id = ? AND revoked_at IS NULL').get(id) !== undefined;
  }

  list(filter: { userId?: string | undefined; clientId?: string | undefined; includeRevoked?: boolean } = {}): Consent[] {
    const where = [filter.includeRevoked ? '1 = 1' : 'revoked_at IS NULL'];
    const args: string[] = [];
    if (filter.userId) { where.push('user_id = ?'); args.push(filter.userId); }
    if (filter.clientId) { where.push('client_id = ?'); args.push(filter.clientId); }
    return (this.db.prepare(`SELECT * FROM consents WHERE ${where.join(' AND ')} ORDER BY created_at, id`).all(...args) as ConsentRow[]).map(fromRow);
  }

  /** Withdraws a consent; false when it was not active. Call within the transaction that ends its token families. */
  revoke(id: string): boolean {
    return this.db.prepare('UPDATE consents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.clock.now(), id).changes === 1;
  }
}

/**
 * Withdraws a consent and ends the token families it backs, their refresh and access tokens included
 * (issue 3 item 9). Call within a transaction; false when the consent was not active.
 */
export function withdrawConsent(consents: Consents, families: TokenFamilies, audit: AuditLog, id: string, why: string): Consent | null {
  const consent = consents.get(id);
  if (!consent || !consents.revoke(id)) return null;
  let accessTokens = 0;
  const ended = families.liveFamiliesOf(id);
  for (const familyId of ended) accessTokens += families.revoke(familyId, 'consent withdrawn').accessTokens;
  audit.append({ event: 'consent.revoked', decision: 'info', clientId: consent.clientId, subject: consent.userId, reason: why,
    detail: { consent_id: id, token_families: ended.length, access_tokens: accessTokens } });
  return consents.get(id);
}
