// The API key grant alone: the key authenticates its application (the grant's own authenticate step), then
// the grant decides an autonomous issuance for one of its dependencies. No broker, no HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_TYPES } from '../../../shared/domain.js';
import type { Application } from '../../../main/core/directory/applications.js';
import { ApiKeyGrant } from '../../../main/core/sts/grants/api-key.js';
import { createApiKey, createApplication, createResource } from '../../support/directory-fixtures.js';
import { authenticated, formParams, openTestbed, refusal, tokenContext, type Testbed } from '../../support/grant-testbed.js';

const API = 'https://api.example.test/';

describe('API key grant', () => {
  let bed: Testbed;
  let grant: ApiKeyGrant;
  let app: Application;
  let key: { id: string; apiKey: string };

  beforeEach(async () => {
    bed = await openTestbed();
    grant = new ApiKeyGrant(bed.apiKeys, bed.applications, bed.targets);
    createResource(bed, { identifier: API, scopes: ['read', 'write'] });
    // Holding the key is what allows the grant: the application is not registered for it.
    app = createApplication(bed, { name: 'Nightly job', dependencies: [API], scopes: ['read'] });
    key = createApiKey(bed, app.clientId);
  });
  afterEach(() => bed.close());

  it('the key authenticates its own application, at the api_key trust level', async () => {
    const client = await grant.authenticate(formParams({ api_key: key.apiKey }), null);
    expect(client.app.clientId).toBe(app.clientId);
    expect(client.trustLevel).toBe('api_key');
    expect(client.method).toBe('none');
  });

  it('decides an autonomous issuance for the key\'s application, within the scopes it may have', async () => {
    const params = formParams({ api_key: key.apiKey, scope: 'read' });
    const client = await grant.authenticate(params, null);
    const issuance = await grant.handle(tokenContext(client, GRANT_TYPES.apiKey, params, { now: bed.clock.now() }));
    expect(issuance.resource.identifier).toBe(API);
    expect(issuance.scopes).toEqual(['read']);
    expect(issuance.subject).toBe(`client:${app.clientId}`);
    expect(issuance.userId).toBeNull();
    expect(issuance.policyAction).toBe('autonomous');
    expect(issuance.spend).toBeUndefined();
  });

  it('a scope the admin did not allow the key\'s application is invalid_scope', async () => {
    const params = formParams({ api_key: key.apiKey, scope: 'write' });
    const client = await grant.authenticate(params, null);
    expect((await refusal(grant.handle(tokenContext(client, GRANT_TYPES.apiKey, params, { now: bed.clock.now() })))).error).toBe('invalid_scope');
  });

  it('an API key of another client than the one authenticated is invalid_grant', async () => {
    const other = createApplication(bed, { name: 'Someone else', dependencies: [API] });
    const error = await refusal(grant.authenticate(formParams({ api_key: key.apiKey }), authenticated(other)));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toBe('the API key belongs to another client');
  });

  it('the same client authenticated twice (client secret and its own key) keeps the stronger method', async () => {
    const client = await grant.authenticate(formParams({ api_key: key.apiKey }), authenticated(app));
    expect(client.method).toBe('client_secret_basic');
    expect(client.trustLevel).toBe('api_key');
  });

  it('a revoked key, an unknown key and a malformed key get one answer: invalid_grant', async () => {
    const revoked = createApiKey(bed, app.clientId);
    bed.apiKeys.revoke(revoked.id);
    const unknown = `lk_sk_${'A'.repeat(43)}`;
    const errors = await Promise.all([revoked.apiKey, unknown, 'not-a-key'].map((apiKey) => refusal(grant.authenticate(formParams({ api_key: apiKey }), null))));
    expect(errors.map((error) => error.error)).toEqual(['invalid_grant', 'invalid_grant', 'invalid_grant']);
    expect(new Set(errors.map((error) => error.message)).size).toBe(1);
    // The key just revoked is not the one still held: that one still works.
    expect((await grant.authenticate(formParams({ api_key: key.apiKey }), null)).app.clientId).toBe(app.clientId);
  });

  it('a key of a disabled application is invalid_grant', async () => {
    bed.applications.setEnabled(app.clientId, false);
    const error = await refusal(grant.authenticate(formParams({ api_key: key.apiKey }), null));
    expect(error.error).toBe('invalid_grant');
    expect(error.reason).toMatch(/disabled/);
  });

  it('no api_key at all is invalid_request', async () => {
    expect((await refusal(grant.authenticate(formParams({}), null))).error).toBe('invalid_request');
  });

  it('a resource that is not a dependency of the key\'s application is invalid_target', async () => {
    createResource(bed, { identifier: 'https://other.example.test/', scopes: ['read'] });
    const params = formParams({ api_key: key.apiKey, resource: 'https://other.example.test/' });
    const client = await grant.authenticate(params, null);
    expect((await refusal(grant.handle(tokenContext(client, GRANT_TYPES.apiKey, params, { now: bed.clock.now() })))).error).toBe('invalid_target');
  });
});
