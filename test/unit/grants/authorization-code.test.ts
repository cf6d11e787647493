// The authorization code grant alone (OAuth 2.1 §4.1.3, RFC 7636 §4.6): a code bound to its client,
// redirect URI, challenge and user buys the first credentials of a token family, once. No broker, no HTTP.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import type { Application } from '../../../main/core/directory/applications.js';
import type { User } from '../../../main/core/directory/users.js';
import { AuthorizationCodes, CODE_LIFETIME_MS, type CodeBinding } from '../../../main/core/sts/authorization-codes.js';
import { AuthorizationCodeGrant } from '../../../main/core/sts/grants/authorization-code.js';
import { UserTokens } from '../../../main/core/sts/grants/user-tokens.js';
import { FamilyRevocation } from '../../../main/core/tokens/family-revocation.js';
import { createApplication, createOwner, createResource, removeDependency } from '../../support/directory-fixtures.js';
import { auditRows, openTestbed, refusal, spendInWrite, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';
const REDIRECT = 'http://127.0.0.1:9999/callback';
const VERIFIER = 'v'.repeat(43) + '-._~0123456789';
const challengeOf = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

describe('authorization code grant', () => {
  let bed: Testbed;
  let codes: AuthorizationCodes;
  let grant: AuthorizationCodeGrant;
  let app: Application;
  let user: User;
  let consentId: string;

  beforeEach(async () => {
    bed = await openTestbed();
    codes = new AuthorizationCodes(bed.db, bed.clock);
    grant = new AuthorizationCodeGrant(codes, new UserTokens(bed.families, bed.targets), bed.consents, bed.users, new FamilyRevocation(bed.families, bed.audit, bed.transaction));
    createResource(bed, { identifier: API, scopes: ['read', 'write'] });
    app = createApplication(bed, { name: 'Desktop app', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken], redirectUris: [REDIRECT], dependencies: [API] });
    user = createOwner(bed);
    consentId = bed.consents.record(user.id, app.clientId, [API], ['openid', 'read'], false, []).id;
  });
  afterEach(() => bed.close());

  /** A code as the consent page would issue it, for `app` unless told otherwise. */
  const issueCode = (binding: Partial<CodeBinding> = {}): string => codes.issue({
    clientId: app.clientId, userId: user.id, consentId, redirectUri: REDIRECT, redirectUriGiven: true, codeChallenge: challengeOf(VERIFIER),
    scopes: ['openid', 'read'], resources: [API], nonce: 'nonce-1', authTime: bed.clock.now() - 5_000, ...binding,
  });
  const redeem = (code: string, extra: Record<string, string> = {}, client: Application = app) =>
    grant.handle(tokenContext(client, GRANT_TYPES.authorizationCode, { code, redirect_uri: REDIRECT, code_verifier: VERIFIER, ...extra }, { now: bed.clock.now() }));

  it('decides the user\'s delegation: the consented resource and scopes, a new family, a refresh token and an ID token', async () => {
    const authTime = bed.clock.now() - 5_000;
    const issuance = await redeem(issueCode({ authTime }));
    expect(issuance.resource.identifier).toBe(API);
    // `openid` is for the ID token: a token for the resource carries only the resource's scopes.
    expect(issuance.scopes).toEqual(['read']);
    expect(issuance.subject).toBe(user.id);
    expect(issuance.userId).toBe(user.id);
    expect(issuance.policyAction).toBe('user_delegation');
    expect(issuance.family?.id).toMatch(/^fam_/);
    expect(issuance.family?.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issuance.family?.idToken).toEqual({ authTime: Math.floor(authTime / 1000), nonce: 'nonce-1' });
    expect(issuance.chain).toBeUndefined();
  });

  it('spends the code in the write: the family starts, the code is redeemed for it, the refresh token is live', async () => {
    const code = issueCode();
    const issuance = await redeem(code);
    const familyId = issuance.family!.id;
    // Deciding changed nothing.
    expect(bed.families.get(familyId)).toBeNull();
    expect(codes.find(code)?.redeemedAt).toBeNull();

    spendInWrite(bed.db, issuance);
    expect(bed.families.get(familyId)).toMatchObject({ clientId: app.clientId, userId: user.id, consentId, scopes: ['openid', 'read'], resources: [API], revokedAt: null });
    expect(codes.find(code)).toMatchObject({ redeemedAt: bed.clock.now(), familyId });
    expect(bed.families.find(issuance.family!.refreshToken!).state).toBe('live');
  });

  it('a code presented again revokes the family it started, its access tokens included, and says so in the audit log', async () => {
    const code = issueCode();
    const first = await redeem(code);
    spendInWrite(bed.db, first);
    const familyId = first.family!.id;
    const now = Math.floor(bed.clock.now() / 1000);
    bed.issuedTokens.record({ jti: 'jti-first', clientId: app.clientId, subject: user.id, userId: user.id, audience: API, scope: 'read', grantType: GRANT_TYPES.authorizationCode, issuedAt: now, expiresAt: now + 600, familyId, parentJti: null });

    const error = await refusal(redeem(code));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('code presented again');
    expect(bed.families.get(familyId)?.revokedAt).not.toBeNull();
    expect(bed.issuedTokens.find('jti-first')?.revokedAt).not.toBeNull();
    expect(bed.families.find(first.family!.refreshToken!)).toMatchObject({ state: 'live', family: { id: familyId, revokedAt: bed.clock.now() } });
    const [row] = auditRows(bed.audit, 'token.family_revoked');
    expect(row).toMatchObject({ decision: 'deny', client_id: app.clientId, subject: user.id, reason: 'authorization code presented again' });
    expect(row!.details).toEqual({ family_id: familyId, access_tokens: 1 });
  });

  it('of two requests redeeming one code, the later write is refused and ends what the first issued', async () => {
    const code = issueCode();
    const winner = await redeem(code);
    const loser = await redeem(code);
    spendInWrite(bed.db, winner);
    const error = await refusal(() => spendInWrite(bed.db, loser));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('code spent by a concurrent request');
    // The loser's write rolled back: its family never started.
    expect(bed.families.get(loser.family!.id)).toBeNull();
    // The issuer tells the grant of a refusal from the write: the code was used twice, so the winner's family ends.
    loser.onRefused!(error);
    expect(bed.families.get(winner.family!.id)?.revokedAt).not.toBeNull();
  });

  it('another client\'s code is invalid_grant, and the code is left alone for its own client', async () => {
    const other = createApplication(bed, { name: 'Thief', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode], redirectUris: [REDIRECT], dependencies: [API] });
    const code = issueCode();
    const error = await refusal(redeem(code, {}, other));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('code issued to another client');
    expect(codes.find(code)?.redeemedAt).toBeNull();
    expect((await redeem(code)).resource.identifier).toBe(API);
  });

  it('a code_verifier that does not match the challenge is invalid_grant (PKCE)', async () => {
    const error = await refusal(redeem(issueCode(), { code_verifier: 'w'.repeat(43) }));
    expect(error.error).toBe('invalid_grant');
    expect(error.message).toBe('PKCE verification failed');
  });

  it('a code without a code_verifier is invalid_request', async () => {
    const code = issueCode();
    const error = await refusal(grant.handle(tokenContext(app, GRANT_TYPES.authorizationCode, { code, redirect_uri: REDIRECT }, { now: bed.clock.now() })));
    expect(error.error).toBe('invalid_request');
  });

  it('an expired code is invalid_grant', async () => {
    const code = issueCode();
    bed.clock.advance(CODE_LIFETIME_MS);
    const error = await refusal(redeem(code));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('code expired');
  });

  it('a redirect_uri other than the authorization request\'s is invalid_grant', async () => {
    const error = await refusal(redeem(issueCode(), { redirect_uri: 'http://127.0.0.1:9999/other' }));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('redirect_uri does not match the authorization request');
  });

  it('a code whose consent was withdrawn is invalid_grant', async () => {
    const code = issueCode();
    bed.consents.revoke(consentId);
    expect((await refusal(redeem(code))).reason).toBe('consent withdrawn');
  });

  it('a resource the user did not authorize is invalid_target', async () => {
    createResource(bed, { identifier: 'https://mail.example.test/', scopes: ['send'] });
    const error = await refusal(redeem(issueCode(), { resource: 'https://mail.example.test/' }));
    expect(error.error).toBe('invalid_target');
    expect(error.reason).toBe('resource outside the grant');
  });

  it('a consented resource the admin has since taken away is not reached (invalid_target)', async () => {
    const code = issueCode();
    removeDependency(bed, app.clientId, API);
    expect((await refusal(redeem(code))).error).toBe('invalid_target');
  });

  it('no refresh token for a client not registered for refresh_token, and no ID token without openid', async () => {
    const plain = createApplication(bed, { name: 'No refresh', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode], redirectUris: [REDIRECT], dependencies: [API] });
    const issuance = await redeem(issueCode({ clientId: plain.clientId, scopes: ['read'] }), {}, plain);
    expect(issuance.family?.refreshToken).toBeUndefined();
    expect(issuance.family?.idToken).toBeUndefined();
    spendInWrite(bed.db, issuance);
    expect(bed.db.prepare('SELECT COUNT(*) AS n FROM refresh_tokens').get()).toEqual({ n: 0 });
  });
});
