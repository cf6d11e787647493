// The CIBA grant alone, poll mode (OpenID CIBA Core §10.1, §11): pending, slow_down, denied, expired, and an
// approved request redeemed once for the user's delegation. No broker, no HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import { Approvals, DEFAULT_POLL_INTERVAL_SECONDS } from '../../../main/core/consent/approvals.js';
import type { Application } from '../../../main/core/directory/applications.js';
import type { User } from '../../../main/core/directory/users.js';
import { silentLogger } from '../../../main/core/logger.js';
import { CibaGrant } from '../../../main/core/sts/grants/ciba.js';
import { UserTokens } from '../../../main/core/sts/grants/user-tokens.js';
import { createApplication, createOwner, createResource } from '../../support/directory-fixtures.js';
import { openTestbed, refusal, spendInWrite, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';

describe('CIBA grant', () => {
  let bed: Testbed;
  let approvals: Approvals;
  let grant: CibaGrant;
  let app: Application;
  let user: User;

  beforeEach(async () => {
    bed = await openTestbed();
    approvals = new Approvals(bed.db, bed.clock, bed.applications, bed.consents, bed.audit, silentLogger);
    grant = new CibaGrant(approvals, new UserTokens(bed.families, bed.targets), bed.consents, bed.users);
    createResource(bed, { identifier: API, scopes: ['read', 'write'] });
    app = createApplication(bed, { name: 'Headless agent', grants: [GRANT_TYPES.ciba, GRANT_TYPES.refreshToken], dependencies: [API] });
    user = createOwner(bed);
  });
  afterEach(() => bed.close());

  /** A backchannel request as the backchannel authentication endpoint stores it. */
  const ask = (client: Application = app, scopes = ['openid', 'read']) =>
    approvals.create({ app: client, user, scopes, resources: [API], downstream: [], bindingMessage: null, lifetimeSeconds: 300, remembered: null });
  const poll = (authReqId: string, client: Application = app) =>
    grant.handle(tokenContext(client, GRANT_TYPES.ciba, { auth_req_id: authReqId }, { now: bed.clock.now() }));

  it('a request the user has not answered is authorization_pending, naming the approval for the audit row', async () => {
    const { approval, authReqId } = ask();
    const error = await refusal(poll(authReqId));
    expect(error.error).toBe('authorization_pending');
    expect(error.auditDetail).toEqual({ approval_id: approval.id });
    expect(approvals.get(approval.id)?.lastPolledAt).toBe(bed.clock.now());
  });

  it('polling sooner than the interval is slow_down, and the interval grows by 5 seconds', async () => {
    const { approval, authReqId } = ask();
    await refusal(poll(authReqId));
    bed.clock.advance(1_000);
    const error = await refusal(poll(authReqId));
    expect(error.error).toBe('slow_down');
    expect(error.message).toContain(`${DEFAULT_POLL_INTERVAL_SECONDS + 5} seconds`);
    expect(approvals.get(approval.id)?.intervalSeconds).toBe(DEFAULT_POLL_INTERVAL_SECONDS + 5);
    // Waiting the interval out is pending again, not slow_down.
    bed.clock.advance((DEFAULT_POLL_INTERVAL_SECONDS + 5) * 1000);
    expect((await refusal(poll(authReqId))).error).toBe('authorization_pending');
  });

  it('a request the user denied is access_denied', async () => {
    const { approval, authReqId } = ask();
    approvals.deny(approval.id);
    const error = await refusal(poll(authReqId));
    expect(error.error).toBe('access_denied');
    expect(error.auditDetail).toEqual({ approval_id: approval.id });
  });

  it('a request past its expiry is expired_token', async () => {
    const { authReqId } = ask();
    bed.clock.advance(300_000);
    expect((await refusal(poll(authReqId))).error).toBe('expired_token');
  });

  it('an approved request decides the user\'s delegation for what was approved, with a family, a refresh token and an ID token', async () => {
    const { approval, authReqId } = ask();
    bed.clock.advance(2_000);
    const approved = approvals.approve(approval.id);
    const issuance = await poll(authReqId);
    expect(issuance.resource.identifier).toBe(API);
    expect(issuance.scopes).toEqual(['read']);
    expect(issuance.subject).toBe(user.id);
    expect(issuance.userId).toBe(user.id);
    expect(issuance.policyAction).toBe('user_delegation');
    expect(issuance.family?.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The user acted when they approved; CIBA carries no nonce.
    expect(issuance.family?.idToken).toEqual({ authTime: Math.floor(approved.decidedAt! / 1000), nonce: null });

    spendInWrite(bed.db, issuance);
    expect(approvals.get(approval.id)?.status).toBe('redeemed');
    expect(bed.families.get(issuance.family!.id)).toMatchObject({ clientId: app.clientId, userId: user.id, consentId: approved.consentId, revokedAt: null });
  });

  it('an approved auth_req_id is redeemed once: presented again after its tokens it is invalid_grant', async () => {
    const { approval, authReqId } = ask();
    approvals.approve(approval.id);
    spendInWrite(bed.db, await poll(authReqId));
    const error = await refusal(poll(authReqId));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('auth_req_id presented again after its tokens were issued');
  });

  it('of two polls deciding on one approval, the later write is refused and starts no family', async () => {
    const { approval, authReqId } = ask();
    approvals.approve(approval.id);
    const first = await poll(authReqId);
    const second = await poll(authReqId);
    spendInWrite(bed.db, first);
    const error = await refusal(() => spendInWrite(bed.db, second));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('auth_req_id redeemed by a concurrent request');
    expect(bed.families.get(second.family!.id)).toBeNull();
    expect(bed.families.get(first.family!.id)).not.toBeNull();
  });

  it('another client\'s auth_req_id is invalid_grant, and its request is left alone (no poll recorded)', async () => {
    const other = createApplication(bed, { name: 'Thief', grants: [GRANT_TYPES.ciba], dependencies: [API] });
    const { approval, authReqId } = ask();
    const error = await refusal(poll(authReqId, other));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('auth_req_id issued to another client');
    expect(approvals.get(approval.id)?.lastPolledAt).toBeNull();
  });

  it('an approval whose consent was withdrawn since is invalid_grant', async () => {
    const { approval, authReqId } = ask();
    const approved = approvals.approve(approval.id);
    bed.consents.revoke(approved.consentId!);
    expect((await refusal(poll(authReqId))).reason).toBe('consent withdrawn');
  });

  it('an unknown auth_req_id is invalid_grant and no auth_req_id at all is invalid_request', async () => {
    expect((await refusal(poll('A'.repeat(43)))).error).toBe('invalid_grant');
    expect((await refusal(grant.handle(tokenContext(app, GRANT_TYPES.ciba, {}, { now: bed.clock.now() })))).error).toBe('invalid_request');
  });
});
