// The refresh token grant alone (OAuth 2.1 §4.3, rotation on every use, §4.3.1): the presented token is spent
// in the write that records its successor; a rotated token presented again ends the family. No broker, no HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import type { Application } from '../../../main/core/directory/applications.js';
import type { User } from '../../../main/core/directory/users.js';
import { RefreshTokenGrant } from '../../../main/core/sts/grants/refresh-token.js';
import { FamilyRevocation } from '../../../main/core/tokens/family-revocation.js';
import { REFRESH_TOKEN_LIFETIME_MS, ROTATION_RACE_WINDOW_MS } from '../../../main/core/tokens/token-families.js';
import { createApplication, createOwner, createResource, removeDependency } from '../../support/directory-fixtures.js';
import { auditRows, ISSUER, openTestbed, refusal, spendInWrite, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';
const MAIL = 'https://mail.example.test/';
const REDIRECT = 'http://127.0.0.1:9999/callback';

describe('refresh token grant', () => {
  let bed: Testbed;
  let grant: RefreshTokenGrant;
  let app: Application;
  let user: User;
  let consentId: string;

  beforeEach(async () => {
    bed = await openTestbed();
    grant = new RefreshTokenGrant(bed.families, bed.consents, bed.users, bed.targets, new FamilyRevocation(bed.families, bed.audit, bed.transaction));
    createResource(bed, { identifier: API, scopes: ['read', 'write'] });
    createResource(bed, { identifier: MAIL, scopes: ['send'] });
    app = createApplication(bed, { name: 'Desktop app', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken], redirectUris: [REDIRECT], dependencies: [API, MAIL] });
    user = createOwner(bed);
    consentId = bed.consents.record(user.id, app.clientId, [API, MAIL], ['openid', 'read', 'write', 'send'], false, []).id;
  });
  afterEach(() => bed.close());

  /** A family as a redeemed code leaves it (user-tokens.ts), with its first refresh token. */
  function startFamily(spec: { resources?: string[]; scopes?: string[]; clientId?: string } = {}): { familyId: string; refreshToken: string } {
    const familyId = bed.families.newId();
    const first = bed.families.newRefreshToken(familyId);
    bed.transaction(() => {
      bed.families.create(familyId, { clientId: spec.clientId ?? app.clientId, userId: user.id, consentId, scopes: spec.scopes ?? ['openid', 'read', 'write', 'send'], resources: spec.resources ?? [API, MAIL], authTime: Date.UTC(2025, 5, 1, 11) });
      first.record();
    });
    return { familyId, refreshToken: first.token };
  }
  const refresh = (refreshToken: string, extra: Record<string, string> = {}, client: Application = app) =>
    grant.handle(tokenContext(client, GRANT_TYPES.refreshToken, { refresh_token: refreshToken, ...extra }, { now: bed.clock.now() }));
  /** An access token of the family, recorded as the issuer records one. */
  function recordAccessToken(jti: string, familyId: string): void {
    const now = Math.floor(bed.clock.now() / 1000);
    bed.issuedTokens.record({ jti, clientId: app.clientId, subject: user.id, userId: user.id, audience: API, scope: 'read', grantType: GRANT_TYPES.refreshToken, issuedAt: now, expiresAt: now + 600, familyId, parentJti: null });
  }

  it('decides a refresh of the family for the named resource, with a successor token and an ID token keeping auth_time', async () => {
    const { familyId, refreshToken } = startFamily();
    const issuance = await refresh(refreshToken, { resource: API, scope: 'read' });
    expect(issuance.resource.identifier).toBe(API);
    expect(issuance.scopes).toEqual(['read']);
    expect(issuance.subject).toBe(user.id);
    expect(issuance.userId).toBe(user.id);
    expect(issuance.policyAction).toBe('refresh');
    expect(issuance.family?.id).toBe(familyId);
    expect(issuance.family?.refreshToken).not.toBe(refreshToken);
    // OIDC Core §12.2: the same auth_time, and no nonce.
    expect(issuance.family?.idToken).toEqual({ authTime: Math.floor(Date.UTC(2025, 5, 1, 11) / 1000), nonce: null });
  });

  it('the same authorization buys a token for another consented resource (RFC 8707 §2.2), with only its scopes', async () => {
    const { refreshToken } = startFamily();
    const issuance = await refresh(refreshToken, { resource: MAIL });
    expect(issuance.resource.identifier).toBe(MAIL);
    expect(issuance.scopes).toEqual(['send']);
  });

  it('rotates in the write: the presented token is spent and the successor is live', async () => {
    const { refreshToken } = startFamily();
    const issuance = await refresh(refreshToken, { resource: API });
    expect(bed.families.find(refreshToken).state).toBe('live');
    expect(bed.families.find(issuance.family!.refreshToken!).state).toBe('unknown');
    spendInWrite(bed.db, issuance);
    expect(bed.families.find(refreshToken).state).toBe('rotated');
    expect(bed.families.find(issuance.family!.refreshToken!).state).toBe('live');
  });

  it('a rotated refresh token presented again revokes the family, its access tokens and its successor', async () => {
    const { familyId, refreshToken } = startFamily();
    const first = await refresh(refreshToken, { resource: API });
    spendInWrite(bed.db, first);
    recordAccessToken('jti-of-family', familyId);
    bed.clock.advance(ROTATION_RACE_WINDOW_MS + 1);

    const error = await refusal(refresh(refreshToken, { resource: API }));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('rotated refresh token presented again');
    expect(bed.families.get(familyId)?.revokedAt).toBe(bed.clock.now());
    expect(bed.issuedTokens.find('jti-of-family')?.revokedAt).not.toBeNull();
    // The legitimate client's successor dies with it.
    expect((await refusal(refresh(first.family!.refreshToken!, { resource: API }))).reason).toBe('token family revoked');
    const [row] = auditRows(bed.audit, 'token.family_revoked');
    expect(row).toMatchObject({ client_id: app.clientId, subject: user.id, grant_type: GRANT_TYPES.refreshToken, reason: 'rotated refresh token presented again' });
    expect(row!.details).toEqual({ family_id: familyId, access_tokens: 1 });
  });

  it('a rotated token presented within the race window lost a race: refused, the family left alive', async () => {
    const { familyId, refreshToken } = startFamily();
    spendInWrite(bed.db, await refresh(refreshToken, { resource: API }));
    bed.clock.advance(ROTATION_RACE_WINDOW_MS - 1);
    const error = await refusal(refresh(refreshToken, { resource: API }));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('refresh token rotated moments ago by a concurrent request');
    expect(bed.families.get(familyId)?.revokedAt).toBeNull();
    expect(auditRows(bed.audit, 'token.family_revoked')).toEqual([]);
  });

  it('of two refreshes deciding on one token, the later write is refused and records no successor', async () => {
    const { familyId, refreshToken } = startFamily();
    const winner = await refresh(refreshToken, { resource: API });
    const loser = await refresh(refreshToken, { resource: API });
    spendInWrite(bed.db, winner);
    const error = await refusal(() => spendInWrite(bed.db, loser));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('refresh token rotated by a concurrent request');
    expect(bed.families.find(loser.family!.refreshToken!).state).toBe('unknown');
    // It overlapped the winner: not a replay.
    expect(bed.families.get(familyId)?.revokedAt).toBeNull();
  });

  it('a family revoked between the decision and the write issues nothing', async () => {
    const { familyId, refreshToken } = startFamily();
    const issuance = await refresh(refreshToken, { resource: API });
    bed.transaction(() => bed.families.revoke(familyId, 'consent withdrawn'));
    const error = await refusal(() => spendInWrite(bed.db, issuance));
    expect(error.reason).toBe('token family revoked');
    // The write rolled back: the presented token was not spent either.
    expect(bed.families.find(refreshToken).state).toBe('live');
  });

  it('another client\'s refresh token is invalid_grant, and its family is left alone', async () => {
    const { familyId, refreshToken } = startFamily();
    const other = createApplication(bed, { name: 'Thief', authMethod: 'none', grants: [GRANT_TYPES.authorizationCode, GRANT_TYPES.refreshToken], redirectUris: [REDIRECT], dependencies: [API] });
    const error = await refusal(refresh(refreshToken, { resource: API }, other));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('refresh token issued to another client');
    expect(bed.families.get(familyId)?.revokedAt).toBeNull();
    expect(bed.families.find(refreshToken).state).toBe('live');
  });

  it('an expired refresh token is invalid_grant', async () => {
    const { refreshToken } = startFamily();
    bed.clock.advance(REFRESH_TOKEN_LIFETIME_MS);
    expect((await refusal(refresh(refreshToken, { resource: API }))).reason).toBe('refresh token expired');
  });

  it('a token of a family whose consent was withdrawn is invalid_grant', async () => {
    const { refreshToken } = startFamily();
    bed.consents.revoke(consentId);
    expect((await refusal(refresh(refreshToken, { resource: API }))).reason).toBe('consent withdrawn');
  });

  it('a scope beyond what was granted is invalid_scope: refresh only narrows (RFC 6749 §6)', async () => {
    const { refreshToken } = startFamily({ scopes: ['read'], resources: [API] });
    const error = await refusal(refresh(refreshToken, { scope: 'read write' }));
    expect(error.error).toBe('invalid_scope');
  });

  it('a resource outside the grant is invalid_target, and one the admin took away since is too', async () => {
    const { refreshToken } = startFamily({ resources: [API] });
    expect((await refusal(refresh(refreshToken, { resource: MAIL }))).reason).toBe('resource outside the grant');
    removeDependency(bed, app.clientId, API);
    expect((await refusal(refresh(refreshToken))).reason).toBe('resource is no longer a dependency of the client');
  });

  it('a family of several resources needs the resource named (invalid_target)', async () => {
    const { refreshToken } = startFamily();
    expect((await refusal(refresh(refreshToken))).error).toBe('invalid_target');
  });

  it('a family without resources refreshes a token for Latchkey itself (the userinfo audience)', async () => {
    const { refreshToken } = startFamily({ resources: [], scopes: ['openid', 'profile'] });
    const issuance = await refresh(refreshToken);
    expect(issuance.resource.identifier).toBe(ISSUER);
    expect(issuance.scopes).toEqual(['openid', 'profile']);
  });
});
