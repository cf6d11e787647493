import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Application, Applications } from '../directory/applications.js';
import { hashSecret, newId, randomSecret } from '../store/credentials.js';
import { DirectoryError } from '../directory/errors.js';
import type { User } from '../directory/users.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import type { Consent, Consents } from './consents.js';
import { parseDownstream, serializeDownstream, type DownstreamHop } from './downstream.js';
import type { ApprovalPrompt, Prompter } from './prompter.js';

/** CIBA §7.3: how long the client waits between polls unless told to slow down. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 5;
/** CIBA §11: each slow_down adds at least 5 seconds, for this and every later poll. */
export const SLOW_DOWN_STEP_SECONDS = 5;
/** How long an approval waits for the user unless the client asks for less (requested_expiry). */
export const DEFAULT_APPROVAL_LIFETIME_SECONDS = 300;
export const MAX_APPROVAL_LIFETIME_SECONDS = 1800;
/** The longest an approval may be remembered for: thirty days. */
export const MAX_REMEMBER_SECONDS = 30 * 86_400;

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface Approval {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  resources: string[];
  downstream: DownstreamHop[];
  bindingMessage: string | null;
  status: ApprovalStatus;
  intervalSeconds: number;
  lastPolledAt: number | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  consentId: string | null;
}

interface ApprovalRow {
  id: string;
  client_id: string;
  user_id: string;
  scopes: string;
  resources: string;
  downstream: string;
  binding_message: string | null;
  status: ApprovalStatus;
  interval_s: number;
  last_polled_at: number | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  consent_id: string | null;
}

const fromRow = (row: ApprovalRow): Approval => ({
  id: row.id,
  clientId: row.client_id,
  userId: row.user_id,
  scopes: JSON.parse(row.scopes) as string[],
  resources: JSON.parse(row.resources) as string[],
  downstream: parseDownstream(row.downstream),
  bindingMessage: row.binding_message,
  status: row.status,
  intervalSeconds: row.interval_s,
  lastPolledAt: row.last_polled_at,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  decidedAt: row.decided_at,
  consentId: row.consent_id,
});

export interface NewApproval {
  app: Application;
  user: User;
  scopes: readonly string[];
  resources: readonly string[];
  downstream: readonly DownstreamHop[];
  bindingMessage: string | null;
  lifetimeSeconds: number;
  /** A remembered approval covering the request: it is approved at once, and nobody is asked. */
  remembered: Consent | null;
}

/**
 * The approval queue (issue 5 item 2): backchannel authentication requests waiting for the user's answer.
 * Each is stored with its `auth_req_id` hashed; the prompters hear of it once it is committed; the user's
 * answer comes back through `approve` or `deny`; the client's polls are bookkept here (interval, slow_down);
 * the grant spends an approved one once. Every change is audited in the transaction that makes it.
 */
export class Approvals {
  private readonly prompters = new Set<Prompter>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly applications: Applications,
    private readonly consents: Consents,
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {}

  /** Adds a prompter (a shell's window, the admin API's feed); returns how to remove it. */
  addPrompter(prompter: Prompter): () => void {
    this.prompters.add(prompter);
    return () => this.prompters.delete(prompter);
  }

  /**
   * Stores a request, audited, then tells the prompters; one a remembered approval covers is approved at
   * once instead. Returns the secret `auth_req_id` (never stored).
   */
  create(request: NewApproval): { approval: Approval; authReqId: string } {
    const authReqId = randomSecret();
    const id = newId('apr');
    const now = this.clock.now();
    const approval = this.db.transaction(() => {
      this.db.prepare(
        `INSERT INTO backchannel_requests (id, auth_req_hash, client_id, user_id, scopes, resources, downstream, binding_message, interval_s, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, hashSecret(authReqId), request.app.clientId, request.user.id, JSON.stringify(request.scopes), JSON.stringify(request.resources),
        serializeDownstream(request.downstream), request.bindingMessage, DEFAULT_POLL_INTERVAL_SECONDS, now, now + request.lifetimeSeconds * 1000);
      this.audit.append({ event: 'approval.requested', decision: 'info', clientId: request.app.clientId, subject: request.user.id, reason: 'backchannel authentication request',
        detail: { approval_id: id, scopes: request.scopes, resources: request.resources, expires_in: request.lifetimeSeconds } });
      if (request.remembered) {
        this.decide(this.get(id)!, 'approved', request.remembered.id);
        this.audit.append({ event: 'approval.approved', decision: 'allow', clientId: request.app.clientId, subject: request.user.id, reason: 'remembered approval',
          detail: { approval_id: id, consent_id: request.remembered.id, scopes: request.scopes, resources: request.resources } });
      }
      return this.get(id)!;
    }).immediate();
    if (approval.status !== 'pending') return { approval, authReqId };
    const prompt = this.prompt(approval);
    for (const prompter of this.prompters) {
      try {
        prompter.approvalRequested(prompt);
      } catch (error) {
        this.log.warn(`a prompter failed: ${(error as Error).message}`);
      }
    }
    return { approval, authReqId };
  }

  get(id: string): Approval | null {
    const row = this.db.prepare('SELECT * FROM backchannel_requests WHERE id = ?').get(id) as ApprovalRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** The request an `auth_req_id` names, looked up by its hash. */
  findByAuthReqId(authReqId: string): Approval | null {
    if (!/^[A-Za-z0-9_-]{43}$/.test(authReqId)) return null;
    const row = this.db.prepare('SELECT * FROM backchannel_requests WHERE auth_req_hash = ?').get(hashSecret(authReqId)) as ApprovalRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** What waits for an answer now, oldest first. */
  pending(): ApprovalPrompt[] {
    return (this.db.prepare("SELECT * FROM backchannel_requests WHERE status = 'pending' AND expires_at > ? ORDER BY created_at, id").all(this.clock.now()) as ApprovalRow[])
      .map((row) => this.prompt(fromRow(row)));
  }

  /**
   * The user allows: a consent is recorded for what the request asked (with the downstream tree it covered),
   * and the request becomes redeemable. Only a pending, unexpired request can be answered. With
   * `rememberSeconds`, the same request is approved without asking until then.
   */
  approve(id: string, options: { rememberSeconds?: number | undefined } = {}): Approval {
    const remember = options.rememberSeconds;
    if (remember !== undefined && (!Number.isSafeInteger(remember) || remember < 1 || remember > MAX_REMEMBER_SECONDS)) {
      throw new DirectoryError(`remember_seconds must be a whole number from 1 to ${MAX_REMEMBER_SECONDS}`);
    }
    return this.db.transaction(() => {
      const approval = this.answerable(id);
      const rememberedUntil = remember === undefined ? null : this.clock.now() + remember * 1000;
      const consent = this.consents.record(approval.userId, approval.clientId, approval.resources, approval.scopes, remember !== undefined, approval.downstream, rememberedUntil);
      this.decide(approval, 'approved', consent.id);
      this.audit.append({ event: 'approval.approved', decision: 'allow', clientId: approval.clientId, subject: approval.userId, reason: 'the user approved a backchannel request',
        detail: { approval_id: id, consent_id: consent.id, scopes: approval.scopes, resources: approval.resources,
          ...(rememberedUntil !== null ? { remembered_until: new Date(rememberedUntil).toISOString() } : {}) } });
      return this.get(id)!;
    }).immediate();
  }

  /** The user denies: the client's next poll answers access_denied. */
  deny(id: string): Approval {
    return this.db.transaction(() => {
      const approval = this.answerable(id);
      this.decide(approval, 'denied', null);
      this.audit.append({ event: 'approval.denied', decision: 'deny', clientId: approval.clientId, subject: approval.userId, reason: 'the user denied a backchannel request',
        detail: { approval_id: id, scopes: approval.scopes, resources: approval.resources } });
      return this.get(id)!;
    }).immediate();
  }

  /** Records a poll; when it came sooner than the interval, the interval grows (CIBA §11). Returns whether it was too soon. */
  recordPoll(approval: Approval): { tooSoon: boolean } {
    const now = this.clock.now();
    const tooSoon = approval.lastPolledAt !== null && now - approval.lastPolledAt < approval.intervalSeconds * 1000;
    this.db.prepare('UPDATE backchannel_requests SET last_polled_at = ?, interval_s = interval_s + ? WHERE id = ?').run(now, tooSoon ? SLOW_DOWN_STEP_SECONDS : 0, approval.id);
    return { tooSoon };
  }

  /** Spends an approved request; false when another poll spent it first. Call within the issuing write. */
  redeem(id: string): boolean {
    return this.db.prepare("UPDATE backchannel_requests SET status = 'redeemed' WHERE id = ? AND status = 'approved'").run(id).changes === 1;
  }

  /** Forgets requests a day past expiry. */
  sweep(): void {
    this.db.prepare('DELETE FROM backchannel_requests WHERE expires_at < ?').run(this.clock.now() - 86_400_000);
  }

  prompt(approval: Approval): ApprovalPrompt {
    const app = this.applications.get(approval.clientId);
    return {
      id: approval.id,
      clientId: approval.clientId,
      applicationName: app?.name ?? approval.clientId,
      verified: app?.registration === 'admin',
      userId: approval.userId,
      resources: approval.resources,
      scopes: approval.scopes,
      bindingMessage: approval.bindingMessage,
      downstream: approval.downstream.map((hop) => ({ ...hop, applicationName: this.applications.get(hop.clientId)?.name ?? hop.clientId })),
      createdAt: approval.createdAt,
      expiresAt: approval.expiresAt,
    };
  }

  private answerable(id: string): Approval {
    const approval = this.get(id);
    if (!approval) throw new DirectoryError('unknown approval', 404);
    if (approval.status !== 'pending') throw new DirectoryError(`the approval was already answered (${approval.status})`, 409);
    if (approval.expiresAt <= this.clock.now()) throw new DirectoryError('the approval has expired', 409);
    // What was disabled since the request was made gets nothing, whatever the answer.
    if (!this.applications.get(approval.clientId)?.enabled) throw new DirectoryError('the application that asked is disabled', 409);
    return approval;
  }

  private decide(approval: Approval, status: 'approved' | 'denied', consentId: string | null): void {
    const changed = this.db.prepare("UPDATE backchannel_requests SET status = ?, decided_at = ?, consent_id = ? WHERE id = ? AND status = 'pending'")
      .run(status, this.clock.now(), consentId, approval.id).changes;
    if (changed !== 1) throw new DirectoryError('the approval was already answered', 409);
  }
}
