// The JWT bearer grant alone (RFC 7523 §2.1): an assertion signed by the application's registered key
// authenticates it; its jti is used up only by the issuing write. No broker, no HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import type { Application } from '../../../main/core/directory/applications.js';
import { AssertionVerifier } from '../../../main/core/sts/assertions.js';
import { JwtBearerGrant } from '../../../main/core/sts/grants/jwt-bearer.js';
import { ReplayGuard } from '../../../main/core/sts/replay-guard.js';
import { assertionClaims, jwksOf, newClientKey, signAssertion, type ClientKey } from '../../support/client-keys.js';
import { createApplication, createResource } from '../../support/directory-fixtures.js';
import { authenticated, formParams, ISSUER, openTestbed, refusal, spendInWrite, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';
const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;

describe('JWT bearer grant', () => {
  let bed: Testbed;
  let grant: JwtBearerGrant;
  let key: ClientKey;
  let app: Application;

  beforeEach(async () => {
    bed = await openTestbed();
    const assertions = new AssertionVerifier(bed.applications, new ReplayGuard(bed.db), bed.clock);
    grant = new JwtBearerGrant(assertions, () => [ISSUER, TOKEN_ENDPOINT], bed.targets);
    createResource(bed, { identifier: API, scopes: ['read', 'write'] });
    key = await newClientKey('ES256');
    app = createApplication(bed, { name: 'Signer', grants: [GRANT_TYPES.jwtBearer], jwks: jwksOf(key), dependencies: [API], scopes: ['read'] });
  });
  afterEach(() => bed.close());

  /** An assertion of `clientId` valid at the test clock's time. */
  const assertion = (overrides: Record<string, unknown> = {}, signer = key, clientId = app.clientId): Promise<string> => {
    const now = Math.floor(bed.clock.now() / 1000);
    return signAssertion(signer, assertionClaims(clientId, TOKEN_ENDPOINT, { iat: now, exp: now + 60, ...overrides }));
  };
  const usedAssertions = (): number => (bed.db.prepare('SELECT COUNT(*) AS n FROM used_assertions').get() as { n: number }).n;

  /** authenticate, then handle, as the token endpoint's pipeline does. */
  async function request(params: Record<string, string>) {
    const form = formParams(params);
    const client = await grant.authenticate(form, null);
    return grant.handle(tokenContext(client, GRANT_TYPES.jwtBearer, form, { now: bed.clock.now() }));
  }

  it('the assertion authenticates its application at the key_bound trust level', async () => {
    const client = await grant.authenticate(formParams({ assertion: await assertion() }), null);
    expect(client.app.clientId).toBe(app.clientId);
    expect(client.trustLevel).toBe('key_bound');
    expect(client.method).toBe('private_key_jwt');
  });

  it('decides an autonomous issuance whose spend uses the assertion\'s jti once', async () => {
    const issuance = await request({ assertion: await assertion(), scope: 'read' });
    expect(issuance.resource.identifier).toBe(API);
    expect(issuance.scopes).toEqual(['read']);
    expect(issuance.subject).toBe(`client:${app.clientId}`);
    expect(issuance.policyAction).toBe('autonomous');
    // Deciding used up nothing: only the issuing write does.
    expect(usedAssertions()).toBe(0);
    spendInWrite(bed.db, issuance);
    expect(usedAssertions()).toBe(1);
  });

  it('an assertion presented again is refused when its jti is spent: invalid_grant, nothing more recorded', async () => {
    const jwt = await assertion();
    spendInWrite(bed.db, await request({ assertion: jwt }));
    // The signature and claims still verify; the replay shows only where the jti is spent.
    const replayed = await request({ assertion: jwt });
    const error = await refusal(() => spendInWrite(bed.db, replayed));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('assertion jti was used before (replay)');
    expect(usedAssertions()).toBe(1);
  });

  it('a request refused before the write leaves the jti unused, so the assertion still works', async () => {
    const jwt = await assertion();
    expect((await refusal(request({ assertion: jwt, scope: 'write' }))).error).toBe('invalid_scope');
    expect(usedAssertions()).toBe(0);
    spendInWrite(bed.db, await request({ assertion: jwt }));
    expect(usedAssertions()).toBe(1);
  });

  it('an assertion of another client than the one authenticated is invalid_grant', async () => {
    const other = createApplication(bed, { name: 'Other', dependencies: [API] });
    const error = await refusal(grant.authenticate(formParams({ assertion: await assertion() }), authenticated(other)));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('assertion issued by another client');
  });

  it('an assertion whose sub is not the application itself is invalid_grant', async () => {
    const error = await refusal(grant.authenticate(formParams({ assertion: await assertion({ sub: 'usr_someone' }) }), null));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('assertion sub must be the application itself');
  });

  it('an assertion signed by a key the application did not register is invalid_grant', async () => {
    const stranger = await newClientKey('ES256', key.kid);
    const error = await refusal(grant.authenticate(formParams({ assertion: await assertion({}, stranger) }), null));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('assertion signature is invalid');
  });

  it('an expired assertion is invalid_grant', async () => {
    const jwt = await assertion();
    bed.clock.advance(5 * 60_000);
    const error = await refusal(grant.authenticate(formParams({ assertion: jwt }), null));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('assertion has expired');
  });

  it('an assertion addressed to another audience is invalid_grant', async () => {
    const now = Math.floor(bed.clock.now() / 1000);
    const jwt = await signAssertion(key, assertionClaims(app.clientId, 'https://elsewhere.example.test/token', { iat: now, exp: now + 60 }));
    expect((await refusal(grant.authenticate(formParams({ assertion: jwt }), null))).error).toBe('invalid_grant');
  });

  it('an application with keys but not registered for the grant is unauthorized_client', async () => {
    const keyed = createApplication(bed, { name: 'Keys only', grants: [GRANT_TYPES.clientCredentials], jwks: jwksOf(key), dependencies: [API] });
    const error = await refusal(grant.authenticate(formParams({ assertion: await assertion({}, key, keyed.clientId) }), null));
    expect(error.error).toBe('unauthorized_client');
  });

  it('a handle without an authenticated assertion is invalid_request', async () => {
    const form = formParams({ assertion: await assertion() });
    expect((await refusal(grant.handle(tokenContext(app, GRANT_TYPES.jwtBearer, form, { now: bed.clock.now() })))).error).toBe('invalid_request');
  });
});
