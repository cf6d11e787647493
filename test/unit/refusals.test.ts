// Refused requests are recorded by one recorder: one row shape, bounded claims, and a refusal that stands
// even when the audit log cannot take it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../main/core/audit/audit-log.js';
import { RefusalRecorder, refusalReason } from '../../main/core/audit/refusals.js';
import type { Clock } from '../../main/core/clock.js';
import { InvalidClient, InvalidGrant, OAuthError } from '../../main/core/oauth/errors.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';

describe('refusal recorder', () => {
  let dir: string;
  let db: Db;
  let audit: AuditLog;
  let refusals: RefusalRecorder;
  const clock: Clock = { now: () => Date.UTC(2025, 0, 1) };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-refusals-'));
    db = openDatabase(join(dir, 'latchkey.db'));
    audit = new AuditLog(db, clock);
    refusals = new RefusalRecorder(audit);
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a refused request as a deny row: the RFC code, the reason the log may know, the error\'s audit detail', () => {
    const error = new InvalidGrant('the code is invalid', { reason: 'code already spent', auditDetail: { family_id: 'fam_1' } });
    refusals.record({ event: 'token.refused', clientId: 'app_1', grantType: 'authorization_code', resource: 'https://api.example.test/' }, error);
    const [row] = audit.list();
    expect(row).toMatchObject({
      event: 'token.refused', decision: 'deny', client_id: 'app_1', subject: null, grant_type: 'authorization_code',
      resource: 'https://api.example.test/', jti: null, reason: 'invalid_grant: code already spent', detail: '{"family_id":"fam_1"}',
    });
    expect(audit.verify()).toEqual({ ok: true, rows: 1 });
  });

  it('words the reason from the description when the error gives no reason, and from the code alone when neither', () => {
    expect(refusalReason(new InvalidClient('client authentication is required'))).toBe('invalid_client: client authentication is required');
    expect(refusalReason(new OAuthError('invalid_request', 400))).toBe('invalid_request: ');
    refusals.record({ event: 'ui.login_refused' }, 'no token');
    expect(audit.list()[0]).toMatchObject({ event: 'ui.login_refused', decision: 'deny', client_id: null, reason: 'no token', detail: null });
  });

  it('keeps what the endpoint knows of the request when an error\'s detail names the same field', () => {
    const error = new OAuthError('temporarily_unavailable', 503, 'try again', { auditDetail: { provider_id: 'from-error', attempt: 2 } });
    refusals.record({ event: 'provider.connect_refused', subject: 'usr_1', detail: { provider_id: 'prv_1' } }, error);
    expect(JSON.parse(audit.list()[0]!.detail!)).toEqual({ provider_id: 'prv_1', attempt: 2 });
  });

  it('bounds what a caller claims: identifiers at 200 characters, a resource at 2048, the reason at 500', () => {
    const long = 'x'.repeat(5000);
    refusals.record({ event: 'token.refused', clientId: long, subject: long, grantType: long, resource: long, jti: long }, new InvalidGrant('bad', { reason: long }));
    const [row] = audit.list();
    expect(row!.client_id).toHaveLength(200);
    expect(row!.subject).toHaveLength(200);
    expect(row!.grant_type).toHaveLength(200);
    expect(row!.jti).toHaveLength(200);
    expect(row!.resource).toHaveLength(2048);
    expect(row!.reason).toHaveLength(500);
    expect(row!.reason!.startsWith('invalid_grant: xxx')).toBe(true);
  });

  it('never throws: a refusal stands when the audit log cannot be written', () => {
    db.close();
    expect(() => refusals.record({ event: 'token.refused', clientId: 'app_1' }, new InvalidClient())).not.toThrow();
    expect(() => refusals.record({ event: 'ui.login_refused' }, 'no token')).not.toThrow();
  });
});
