import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { OAuthError } from '../oauth/errors.js';
import { hashSecret, randomSecret } from '../store/credentials.js';
import type { Db } from '../store/database.js';
import { DEFAULT_SCRYPT, deriveKey, type ScryptParams } from '../vault/passphrase.js';
import { passphraseWeakness } from './passphrase-strength.js';

/** How long a UI session stays present after the owner typed the passphrase (issue 12 §1). */
export const UI_PRESENCE_MS = 5 * 60_000;
/** How long a CLI's presence token lives: one command, never stored. */
export const CLI_PRESENCE_MS = 2 * 60_000;
/** Wrong passphrases allowed before the back-off starts; then 1 s, 2 s, 4 s … up to LOCKOUT_MAX_MS. */
const FREE_ATTEMPTS = 3;
const LOCKOUT_MAX_MS = 15 * 60_000;

/** Who is asking to be taken as the owner: the UI's session, or an admin-token caller (the CLI, or an agent). */
export type PresenceCaller = { kind: 'session'; sessionId: Buffer } | { kind: 'token'; presenceToken: string | undefined };

/** RFC 6750-style stable errors the UI and the CLI turn into the prompt. */
export class OwnerPresenceRequired extends OAuthError {
  constructor() {
    super('owner_presence_required', 403, 'this change needs the owner: type the owner passphrase (in the Latchkey UI, or in a terminal for the CLI)', { reason: 'loosening without a presence proof' });
  }
}

export interface OwnerState {
  passphraseSet: boolean;
  presentUntil: number | null;
  lockedUntil: number | null;
  failedAttempts: number;
  lastFailedAt: number | null;
}

interface Row {
  verifier: Buffer;
  salt: Buffer;
  kdf_n: number;
  kdf_r: number;
  kdf_p: number;
  failed_attempts: number;
  last_failed_at: number | null;
  locked_until: number | null;
}

/**
 * Owner presence (issue 12 §1): tightening is free, loosening needs the owner. Proof of presence is the owner
 * passphrase, typed: nothing an agent running as the same OS user can read (the data dir, the admin token, a
 * UI session, the environment) is such proof. Only a slow verifier is stored; wrong passphrases are counted,
 * backed off exponentially, audited and shown to the owner. A UI session is present for five minutes after the
 * owner typed it; a CLI command gets a token that lives two minutes and is kept only in its memory.
 *
 * A data dir from before this change has no passphrase: until the owner sets one, loosening works as it did
 * (a one-time window the Overview, the CLI and the start banner point out; the audit row says who set it).
 */
export class OwnerPresence {
  private readonly sessions = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  /** One verification at a time: parallel guesses would all start before the first failure is counted. */
  private verifying: Promise<unknown> = Promise.resolve();
  private readonly row;

  constructor(private readonly db: Db, private readonly audit: AuditLog, private readonly clock: Clock, private readonly scrypt: ScryptParams = DEFAULT_SCRYPT) {
    this.row = db.prepare('SELECT verifier, salt, kdf_n, kdf_r, kdf_p, failed_attempts, last_failed_at, locked_until FROM owner_passphrase WHERE id = 1');
  }

  get passphraseSet(): boolean {
    return this.row.get() !== undefined;
  }

  state(caller: PresenceCaller | null): OwnerState {
    const row = this.row.get() as Row | undefined;
    const now = this.clock.now();
    const presentUntil = caller?.kind === 'session' ? (this.sessions.get(caller.sessionId.toString('hex')) ?? null) : null;
    return {
      passphraseSet: row !== undefined,
      presentUntil: presentUntil !== null && presentUntil > now ? presentUntil : null,
      lockedUntil: row?.locked_until !== null && row?.locked_until !== undefined && row.locked_until > now ? row.locked_until : null,
      failedAttempts: row?.failed_attempts ?? 0,
      lastFailedAt: row?.last_failed_at ?? null,
    };
  }

  /** Refuses a loosening call from a caller that has not proven presence, once a passphrase is set. */
  require(caller: PresenceCaller): void {
    if (!this.passphraseSet) return;
    const now = this.clock.now();
    if (caller.kind === 'session') {
      if ((this.sessions.get(caller.sessionId.toString('hex')) ?? 0) > now) return;
    } else if (caller.presenceToken !== undefined && caller.presenceToken.length <= 64) {
      if ((this.tokens.get(hashSecret(caller.presenceToken).toString('hex')) ?? 0) > now) return;
    }
    throw new OwnerPresenceRequired();
  }

  /**
   * The owner typed the passphrase. A session is then present for UI_PRESENCE_MS; a token caller gets a token
   * for its command. Refused: no passphrase set (409), locked out (429), wrong (403), each audited.
   */
  async prove(caller: PresenceCaller, passphrase: string, surface: 'ui' | 'cli'): Promise<{ presentUntil: number; presenceToken: string | null }> {
    if (!this.passphraseSet) throw new OAuthError('passphrase_not_set', 409, 'no owner passphrase is set yet: set one first');
    await this.verify(passphrase, surface);
    const now = this.clock.now();
    this.forgetExpired(now);
    if (caller.kind === 'session') {
      const presentUntil = now + UI_PRESENCE_MS;
      this.sessions.set(caller.sessionId.toString('hex'), presentUntil);
      return { presentUntil, presenceToken: null };
    }
    const token = randomSecret();
    const presentUntil = now + CLI_PRESENCE_MS;
    this.tokens.set(hashSecret(token).toString('hex'), presentUntil);
    return { presentUntil, presenceToken: token };
  }

  /**
   * Sets the passphrase the first time (no current one asked: the one-time window, audited as such), or
   * changes it (the current one, verified and throttled like any proof). A weak one is refused, saying why.
   */
  async setPassphrase(passphrase: string, current: string | undefined, by: 'ui' | 'cli', userInputs: readonly string[] = []): Promise<void> {
    const wasSet = this.passphraseSet;
    if (wasSet) {
      if (current === undefined) throw new OAuthError('invalid_request', 400, 'current_passphrase is required to change the owner passphrase');
      await this.verify(current, by);
    }
    const weakness = await passphraseWeakness(passphrase, userInputs);
    if (weakness) throw new OAuthError('weak_passphrase', 400, weakness);
    const salt = randomBytes(16);
    const verifier = await deriveKey(passphrase, salt, this.scrypt);
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO owner_passphrase (id, verifier, salt, kdf_n, kdf_r, kdf_p, set_at) VALUES (1, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET verifier = excluded.verifier, salt = excluded.salt, kdf_n = excluded.kdf_n, kdf_r = excluded.kdf_r, kdf_p = excluded.kdf_p,
          set_at = excluded.set_at, failed_attempts = 0, last_failed_at = NULL, locked_until = NULL`)
        .run(verifier, salt, this.scrypt.N, this.scrypt.r, this.scrypt.p, this.clock.now());
      this.audit.append({ event: wasSet ? 'owner.passphrase_changed' : 'owner.passphrase_set', decision: 'info', reason: wasSet ? `changed (current passphrase typed, ${by})` : `set for the first time (${by}): no proof of presence existed before it`, detail: { surface: by } });
    }).immediate();
    // A new passphrase ends every presence proven with the old one.
    this.sessions.clear();
    this.tokens.clear();
  }

  private verify(passphrase: string, surface: 'ui' | 'cli'): Promise<void> {
    const turn = this.verifying.then(() => this.verifyNow(passphrase, surface));
    this.verifying = turn.catch(() => {});
    return turn;
  }

  private async verifyNow(passphrase: string, surface: 'ui' | 'cli'): Promise<void> {
    const row = this.row.get() as Row;
    const now = this.clock.now();
    if (row.locked_until !== null && row.locked_until > now) throw tooManyAttempts(row.locked_until - now);
    const derived = await deriveKey(passphrase, row.salt, { N: row.kdf_n, r: row.kdf_r, p: row.kdf_p });
    if (derived.length === row.verifier.length && timingSafeEqual(derived, row.verifier)) {
      this.db.transaction(() => {
        this.db.prepare('UPDATE owner_passphrase SET failed_attempts = 0, locked_until = NULL WHERE id = 1').run();
        this.audit.append({ event: 'owner.presence_proven', decision: 'allow', reason: `the owner typed the passphrase (${surface})`, detail: { surface } });
      }).immediate();
      return;
    }
    const failures = row.failed_attempts + 1;
    const backOff = failures < FREE_ATTEMPTS ? null : Math.min(LOCKOUT_MAX_MS, 1000 * 2 ** (failures - FREE_ATTEMPTS));
    this.db.transaction(() => {
      this.db.prepare('UPDATE owner_passphrase SET failed_attempts = ?, last_failed_at = ?, locked_until = ? WHERE id = 1').run(failures, now, backOff === null ? null : now + backOff);
      this.audit.append({ event: 'owner.presence_failed', decision: 'deny', reason: `wrong owner passphrase (${surface})`, detail: { surface, failed_attempts: failures, locked_for_ms: backOff } });
    }).immediate();
    throw new OAuthError('wrong_passphrase', 403, 'that is not the owner passphrase', { reason: `wrong owner passphrase, attempt ${failures}` });
  }

  private forgetExpired(now: number): void {
    for (const map of [this.sessions, this.tokens]) for (const [key, until] of map) if (until <= now) map.delete(key);
  }
}

function tooManyAttempts(waitMs: number): OAuthError {
  const seconds = Math.ceil(waitMs / 1000);
  return new OAuthError('too_many_attempts', 429, `too many wrong passphrases: try again in ${seconds} s`, { headers: { 'Retry-After': String(seconds) }, reason: 'owner passphrase locked out' });
}
