// The client credentials grant alone (RFC 6749 §4.4, OAuth 2.1 §4.2, RFC 8707): what an autonomous client
// may have, decided without a broker. The issuer is not involved: the test reads the Issuance.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import { ClientCredentialsGrant } from '../../../main/core/sts/grants/client-credentials.js';
import { createApplication, createProvider, createResource, removeDependency } from '../../support/directory-fixtures.js';
import { openTestbed, refusal, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';
const MAIL = 'https://mail.example.test/';

describe('client credentials grant', () => {
  let bed: Testbed;
  let grant: ClientCredentialsGrant;

  beforeEach(async () => {
    bed = await openTestbed();
    grant = new ClientCredentialsGrant(bed.targets);
    createResource(bed, { identifier: API, scopes: ['read', 'write', 'admin'] });
    createResource(bed, { identifier: MAIL, scopes: ['send'] });
  });
  afterEach(() => bed.close());

  const request = (app: Parameters<typeof tokenContext>[0], params: Record<string, string | string[]>) =>
    grant.handle(tokenContext(app, GRANT_TYPES.clientCredentials, params, { now: bed.clock.now() }));

  it('issues for the only dependency when no resource is named, as the client itself, autonomously', async () => {
    const app = createApplication(bed, { dependencies: [API], scopes: ['read', 'write'] });
    const issuance = await request(app, {});
    expect(issuance.resource.identifier).toBe(API);
    expect(issuance.scopes).toEqual(['read', 'write']);
    expect(issuance.subject).toBe(`client:${app.clientId}`);
    expect(issuance.userId).toBeNull();
    expect(issuance.policyAction).toBe('autonomous');
    // Nothing to spend, no family, no chain: a client credential is not derived from anything.
    expect(issuance.spend).toBeUndefined();
    expect(issuance.family).toBeUndefined();
    expect(issuance.chain).toBeUndefined();
  });

  it('narrows to the asked scopes, and keeps the resource named among several dependencies', async () => {
    const app = createApplication(bed, { dependencies: [API, MAIL] });
    const issuance = await request(app, { resource: MAIL, scope: 'send' });
    expect(issuance.resource.identifier).toBe(MAIL);
    expect(issuance.scopes).toEqual(['send']);
  });

  it('a scope beyond what the admin allowed the client is invalid_scope, never a silent narrowing', async () => {
    const app = createApplication(bed, { dependencies: [API], scopes: ['read'] });
    const error = await refusal(request(app, { scope: 'read admin' }));
    expect(error.error).toBe('invalid_scope');
    expect(error.reason).toBe('scope not allowed: admin');
  });

  it('a scope of another resource is invalid_scope: scopes belong to resources', async () => {
    const app = createApplication(bed, { dependencies: [API, MAIL] });
    expect((await refusal(request(app, { resource: API, scope: 'send' }))).error).toBe('invalid_scope');
  });

  it('a resource that is not a dependency of the client is invalid_target, as an unknown one is', async () => {
    const app = createApplication(bed, { dependencies: [API] });
    const notMine = await refusal(request(app, { resource: MAIL }));
    const unknown = await refusal(request(app, { resource: 'https://nowhere.example.test/' }));
    expect([notMine.error, unknown.error]).toEqual(['invalid_target', 'invalid_target']);
    // The client is told the same; only the audit reason tells them apart.
    expect(notMine.message).toBe(unknown.message);
    expect(notMine.reason).toBe('resource is not a dependency of the client');
    expect(unknown.reason).toBe('unknown resource');
  });

  it('a resource removed from the client\'s dependencies is no longer reached', async () => {
    const app = createApplication(bed, { dependencies: [API, MAIL] });
    const after = removeDependency(bed, app.clientId, MAIL);
    expect((await refusal(request(after, { resource: MAIL }))).error).toBe('invalid_target');
  });

  it('without a resource, a client of several dependencies must name one (invalid_target)', async () => {
    const app = createApplication(bed, { dependencies: [API, MAIL] });
    const error = await refusal(request(app, {}));
    expect(error.error).toBe('invalid_target');
    expect(error.message).toMatch(/resource parameter is required/);
  });

  it('two resources in one request are invalid_target: one audience per token', async () => {
    const app = createApplication(bed, { dependencies: [API, MAIL] });
    expect((await refusal(request(app, { resource: [API, MAIL] }))).error).toBe('invalid_target');
  });

  it('a brokered resource asked for autonomously is invalid_target: it is a user\'s upstream account', async () => {
    const providerId = createProvider(bed);
    const upstream = 'https://upstream-api.example.test/';
    createResource(bed, { identifier: upstream, credentialType: 'brokered', providerId, scopes: ['repo'] });
    const app = createApplication(bed, { dependencies: [upstream] });
    const error = await refusal(request(app, { resource: upstream }));
    expect(error.error).toBe('invalid_target');
    expect(error.reason).toBe('autonomous access to a brokered resource');
  });

  it('a vaulted resource is the client\'s own credential: the issuance names it for the secret kind', async () => {
    const vaulted = 'https://legacy.example.test/';
    createResource(bed, { identifier: vaulted, credentialType: 'vaulted', secret: 's3cret-value' });
    const app = createApplication(bed, { dependencies: [vaulted] });
    const issuance = await request(app, {});
    expect(issuance.resource.credentialType).toBe('vaulted');
    expect(issuance.scopes).toEqual([]);
  });

  it('a public client is unauthorized_client (OAuth 2.1 §4.2: confidential clients only)', async () => {
    const app = createApplication(bed, { authMethod: 'none', grants: [GRANT_TYPES.authorizationCode], redirectUris: ['http://127.0.0.1:9999/callback'] });
    expect((await refusal(request(app, {}))).error).toBe('unauthorized_client');
  });
});
