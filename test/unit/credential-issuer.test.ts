// The one copy of the issuing invariant (tokens/credential-issuer.ts): policy decides → the kind of the
// resource's credential type prepares → one durable write spends, records and audits → the answer. Fake kinds
// record what they are asked; the policy is a fake decider; the group commit and the audit log are real, on a
// SQLite file. No broker, no grant, no HTTP.
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CredentialType } from '../../shared/domain.js';
import { GRANT_TYPES, TOKEN_TYPES } from '../../shared/domain.js';
import type { Application } from '../../main/core/directory/applications.js';
import type { Resource } from '../../main/core/directory/resources.js';
import { InvalidGrant, InvalidTarget, type OAuthError } from '../../main/core/oauth/errors.js';
import type { IssuanceQuestion } from '../../main/core/policy/issuance-policy.js';
import type { PolicyDecision } from '../../main/core/policy/policy-engine.js';
import { GroupCommit } from '../../main/core/store/group-commit.js';
import { ReplayGuard } from '../../main/core/sts/replay-guard.js';
import {
  CredentialIssuer, type CredentialKind, type IssuanceDecider, type Issuance, type IssueContext, type PreparedCredential,
} from '../../main/core/tokens/credential-issuer.js';
import { SigningKeyUnavailable, type SigningKeys } from '../../main/core/tokens/signing-keys.js';
import { createApplication, createResource } from '../support/directory-fixtures.js';
import { auditRows, openTestbed, refusal, tokenContext, type Testbed } from '../support/grant-testbed.js';

/** A credential kind that records what it is asked, and records its credential as the Latchkey kind does (issued_tokens). */
class RecordingKind implements CredentialKind {
  readonly prepared: Issuance[] = [];
  readonly recorded: Issuance[] = [];
  /** What `record` returns for the audit row (a kind's detail). */
  detail: Record<string, unknown> = { expires_at: 1 };
  /** When set, `record` throws it (after writing its row). */
  failRecord: Error | null = null;
  admitted: ((issuance: Issuance) => void) | undefined;

  constructor(readonly credentialType: CredentialType, readonly issuedTokenType: string, private readonly bed: Testbed, private readonly steps: string[]) {}

  admit(issuance: Issuance): void {
    this.steps.push(`admit:${this.credentialType}`);
    this.admitted?.(issuance);
  }

  async prepare(issuance: Issuance, context: IssueContext): Promise<PreparedCredential> {
    this.steps.push(`prepare:${this.credentialType}`);
    this.prepared.push(issuance);
    const jti = `jti-${this.credentialType}-${this.prepared.length}`;
    const nowSeconds = Math.floor(context.now / 1000);
    return {
      event: 'token.issued',
      jti,
      accessToken: `credential-of-${this.credentialType}`,
      record: () => {
        this.steps.push(`record:${this.credentialType}:inTransaction=${this.bed.db.inTransaction}`);
        this.bed.issuedTokens.record({
          jti, clientId: context.client.app.clientId, subject: issuance.subject, userId: issuance.userId, audience: issuance.resource.identifier,
          scope: issuance.scopes.join(' '), grantType: context.grantType, issuedAt: nowSeconds, expiresAt: nowSeconds + 60, familyId: null, parentJti: null,
        });
        if (this.failRecord) throw this.failRecord;
        this.recorded.push(issuance);
        return this.detail;
      },
      answer: () => ({ access_token: `credential-of-${this.credentialType}`, token_type: 'Bearer', expires_in: 60, scope: issuance.scopes.join(' ') }),
    };
  }
}

/** The policy decision point: answers what the test says, and remembers what it was asked. */
class FakeDecider implements IssuanceDecider {
  readonly questions: IssuanceQuestion[] = [];
  answer: PolicyDecision = { decision: 'allow', policies: ['permit-test'] };
  decide(question: IssuanceQuestion): PolicyDecision {
    this.questions.push(question);
    return this.answer;
  }
}

/** Signing keys that cannot sign: ID tokens are the only thing the issuer signs itself. */
const keysThatCannotSign = { signer: () => { throw new SigningKeyUnavailable('the vault is locked'); } } as unknown as SigningKeys;

describe('credential issuer', () => {
  let bed: Testbed;
  let commit: GroupCommit;
  let steps: string[];
  let tokenKind: RecordingKind;
  let vaultedKind: RecordingKind;
  let decider: FakeDecider;
  let issuer: CredentialIssuer;
  let app: Application;
  let api: Resource;
  let legacy: Resource;
  let context: IssueContext;

  beforeEach(async () => {
    bed = await openTestbed();
    commit = new GroupCommit(bed.db, `${bed.file}-wal`);
    steps = [];
    tokenKind = new RecordingKind('token', TOKEN_TYPES.accessToken, bed, steps);
    vaultedKind = new RecordingKind('vaulted', TOKEN_TYPES.staticSecret, bed, steps);
    decider = new FakeDecider();
    issuer = new CredentialIssuer([tokenKind, vaultedKind], decider, commit, bed.audit, keysThatCannotSign);
    api = createResource(bed, { identifier: 'https://api.example.test/', scopes: ['read', 'write'] });
    legacy = createResource(bed, { identifier: 'https://legacy.example.test/', credentialType: 'vaulted', secret: 'legacy-secret' });
    app = createApplication(bed, { name: 'Agent', dependencies: [api.identifier, legacy.identifier] });
    context = tokenContext(app, GRANT_TYPES.clientCredentials, {}, { now: bed.clock.now() });
  });
  afterEach(async () => {
    commit.close();
    await bed.close();
  });

  const autonomous = (overrides: Partial<Issuance> = {}): Issuance => ({
    resource: api, scopes: ['read'], subject: `client:${app.clientId}`, userId: null, policyAction: 'autonomous', ...overrides,
  });
  const issuedCount = (): number => (bed.db.prepare('SELECT COUNT(*) AS n FROM issued_tokens').get() as { n: number }).n;
  const auditCount = (): number => (bed.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  /** A write of the spend that can be seen afterwards (or seen rolled back): an assertion jti used. */
  const replay = (): ReplayGuard => new ReplayGuard(bed.db);
  const usedJtis = (): number => (bed.db.prepare('SELECT COUNT(*) AS n FROM used_assertions').get() as { n: number }).n;

  it('issues through the kind of the resource\'s credential type, spending then recording inside one write, and answers the kind\'s answer', async () => {
    const answer = await issuer.issue(context, autonomous({
      resource: legacy, scopes: [],
      spend: () => { steps.push(`spend:inTransaction=${bed.db.inTransaction}`); },
    }));
    expect(steps).toEqual(['admit:vaulted', 'prepare:vaulted', 'spend:inTransaction=true', 'record:vaulted:inTransaction=true']);
    expect(tokenKind.prepared).toEqual([]);
    expect(answer).toEqual({ access_token: 'credential-of-vaulted', token_type: 'Bearer', expires_in: 60, scope: '' });
    expect(issuedCount()).toBe(1);
  });

  it('asks the policy about the issuance, once, with everything Cedar decides on', async () => {
    const act = { sub: 'client:app_service', client_id: 'app_service' };
    await issuer.issue({ ...context, transport: 'socket' }, autonomous({
      scopes: ['read', 'write'], policyAction: 'delegation_chain',
      chain: { act, delegationDepth: 2, parentJti: null, notAfter: Number.MAX_SAFE_INTEGER, requestedTokenType: undefined },
    }));
    expect(decider.questions).toHaveLength(1);
    expect(decider.questions[0]).toMatchObject({
      app: { clientId: app.clientId }, userId: null, resource: { identifier: api.identifier }, scopes: ['read', 'write'], grantType: GRANT_TYPES.clientCredentials,
      trustLevel: 'shared_secret', policyAction: 'delegation_chain', transport: 'socket', act, delegationDepth: 2,
    });
  });

  it('writes one audit row: the credential, the kind\'s and the grant\'s detail, the family, and the policy decision', async () => {
    tokenKind.detail = { expires_at: 1234 };
    await issuer.issue(context, autonomous({
      family: { id: 'fam_test', refreshToken: 'next-refresh-token' },
      audit: { reason: 'a reason of the grant', detail: { approval_id: 'apr_1' } },
    }));
    const rows = auditRows(bed.audit, 'token.issued');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      decision: 'allow', client_id: app.clientId, subject: `client:${app.clientId}`, resource: api.identifier,
      grant_type: GRANT_TYPES.clientCredentials, jti: 'jti-token-1', reason: 'a reason of the grant',
    });
    expect(rows[0]!.details).toEqual({
      scope: 'read', trust_level: 'shared_secret', expires_at: 1234, family_id: 'fam_test', refresh_token: true, id_token: false, approval_id: 'apr_1',
      policy: { decision: 'allow', policies: ['permit-test'] }, policy_action: 'autonomous',
    });
  });

  it('adds the refresh token the grant made to the kind\'s answer', async () => {
    const answer = await issuer.issue(context, autonomous({ family: { id: 'fam_test', refreshToken: 'next-refresh-token' } }));
    expect(answer).toEqual({ access_token: 'credential-of-token', token_type: 'Bearer', expires_in: 60, scope: 'read', refresh_token: 'next-refresh-token' });
  });

  it('a policy deny is access_denied, and nothing is prepared, spent, recorded or audited', async () => {
    decider.answer = { decision: 'deny', policies: ['forbid-nights'] };
    const before = auditCount();
    let spent = false;
    const error = await refusal(issuer.issue(context, autonomous({ spend: () => { spent = true; } })));
    expect(error.error).toBe('access_denied');
    expect(error.message).not.toContain('forbid-nights');
    expect(error.auditDetail).toEqual({ policy: { decision: 'deny', policies: ['forbid-nights'] }, policy_action: 'autonomous' });
    expect(spent).toBe(false);
    expect(tokenKind.prepared).toEqual([]);
    expect(issuedCount()).toBe(0);
    expect(auditCount()).toBe(before);
  });

  it('a requested_token_type the kind does not issue is invalid_request, before policy is asked', async () => {
    const error = await refusal(issuer.issue(context, autonomous({
      policyAction: 'delegation_chain',
      chain: { act: { sub: 'client:x', client_id: 'x' }, delegationDepth: 1, parentJti: null, notAfter: Number.MAX_SAFE_INTEGER, requestedTokenType: TOKEN_TYPES.staticSecret },
    })));
    expect(error.error).toBe('invalid_request');
    expect(decider.questions).toEqual([]);
    expect(tokenKind.prepared).toEqual([]);
  });

  it('what a kind never issues for is refused by its admit step, before policy is asked', async () => {
    tokenKind.admitted = () => { throw new InvalidTarget('not for this kind'); };
    expect((await refusal(issuer.issue(context, autonomous()))).error).toBe('invalid_target');
    expect(decider.questions).toEqual([]);
  });

  it('a credential type no kind issues is server_error, before policy is asked', async () => {
    const providerless = { ...api, credentialType: 'brokered' as const };
    expect((await refusal(issuer.issue(context, autonomous({ resource: providerless })))).error).toBe('server_error');
    expect(decider.questions).toEqual([]);
  });

  it('a spend that throws leaves no record and no audit row, rolls back what it wrote, and tells the grant through onRefused', async () => {
    const before = auditCount();
    const spentMeanwhile = new InvalidGrant('the code is already used', { reason: 'spent by a concurrent request' });
    const told: OAuthError[] = [];
    const error = await refusal(issuer.issue(context, autonomous({
      spend: () => {
        replay().consume('app', 'jti-written-by-the-spend', 9_999_999_999);
        throw spentMeanwhile;
      },
      onRefused: (refused) => told.push(refused),
    })));
    expect(error).toBe(spentMeanwhile);
    expect(told).toEqual([spentMeanwhile]);
    expect(usedJtis()).toBe(0);
    expect(tokenKind.recorded).toEqual([]);
    expect(issuedCount()).toBe(0);
    expect(auditCount()).toBe(before);
  });

  it('a record that fails for another reason is server_error, with nothing written and no onRefused', async () => {
    tokenKind.failRecord = new Error('SQLITE_FULL: database or disk is full');
    const told: OAuthError[] = [];
    const error = await refusal(issuer.issue(context, autonomous({ spend: () => { replay().consume('app', 'jti-1', 9_999_999_999); }, onRefused: (refused) => told.push(refused) })));
    expect(error.error).toBe('server_error');
    expect(error.message).not.toContain('SQLITE_FULL');
    expect(told).toEqual([]);
    expect(usedJtis()).toBe(0);
    expect(issuedCount()).toBe(0);
  });

  it('an audit row that cannot be written fails closed: server_error, nothing spent, nothing recorded', async () => {
    bed.db.exec("CREATE TEMP TRIGGER audit_unwritable BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    try {
      const error = await refusal(issuer.issue(context, autonomous({ spend: () => { replay().consume('app', 'jti-1', 9_999_999_999); } })));
      expect(error.error).toBe('server_error');
      expect(error.message).not.toContain('disk says no');
      expect(error.reason).toContain('disk says no');
    } finally {
      bed.db.exec('DROP TRIGGER temp.audit_unwritable');
    }
    expect(usedJtis()).toBe(0);
    expect(issuedCount()).toBe(0);
    // The same issuance goes through once the log is writable again.
    await issuer.issue(context, autonomous());
    expect(issuedCount()).toBe(1);
  });

  it('the policy decision in the audit row cannot be overwritten by the grant\'s detail, nor by the kind\'s', async () => {
    tokenKind.detail = { policy: 'forged by the kind', expires_at: 1 };
    await issuer.issue(context, autonomous({ audit: { detail: { policy: { decision: 'forged by the grant' }, policy_action: 'impersonation', hop: 'kept' } } }));
    const [row] = auditRows(bed.audit, 'token.issued');
    expect(row!.details.policy).toEqual({ decision: 'allow', policies: ['permit-test'] });
    expect(row!.details.policy_action).toBe('autonomous');
    expect(row!.details.hop).toBe('kept');
  });

  it('merges the grant\'s refusal detail into a refused error\'s audit detail, never over the refusal\'s own', async () => {
    decider.answer = { decision: 'deny', policies: [] };
    const error = await refusal(issuer.issue(context, autonomous({ audit: { refusal: { requester: 'app_requester', delegation_depth: 2, policy: 'forged' } } })));
    expect(error.auditDetail).toEqual({ requester: 'app_requester', delegation_depth: 2, policy: { decision: 'deny', policies: [] }, policy_action: 'autonomous' });
    // A refusal from the write carries it too.
    decider.answer = { decision: 'allow', policies: ['permit-test'] };
    const fromSpend = await refusal(issuer.issue(context, autonomous({
      spend: () => { throw new InvalidGrant('spent', { auditDetail: { approval_id: 'apr_1' } }); },
      audit: { refusal: { requester: 'app_requester' } },
    })));
    expect(fromSpend.auditDetail).toEqual({ requester: 'app_requester', approval_id: 'apr_1' });
  });

  it('an ID token the keys cannot sign is temporarily_unavailable, and nothing is spent or recorded', async () => {
    let spent = false;
    const error = await refusal(issuer.issue(context, autonomous({ family: { id: 'fam_test', idToken: { authTime: 1, nonce: null } }, spend: () => { spent = true; } })));
    expect(error.error).toBe('temporarily_unavailable');
    expect(spent).toBe(false);
    expect(issuedCount()).toBe(0);
  });

  it('an ID token travels with the answer when the family asks for one, for the subject and the client, its at_hash over the credential', async () => {
    const keys = await bed.signingKeys();
    await keys.whenMade();
    const signing = new CredentialIssuer([tokenKind], decider, commit, bed.audit, keys);
    const answer = await signing.issue(context, autonomous({ subject: 'usr_ada', userId: 'usr_ada', family: { id: 'fam_test', idToken: { authTime: 1_700_000_000, nonce: 'n-1' } } }));
    const claims = decodeJwt(answer.id_token!);
    expect(claims).toMatchObject({ sub: 'usr_ada', aud: app.clientId, nonce: 'n-1', auth_time: 1_700_000_000, iat: Math.floor(context.now / 1000) });
    expect(typeof claims.at_hash).toBe('string');
    expect(auditRows(bed.audit, 'token.issued')[0]!.details.id_token).toBe(true);
  });
});
