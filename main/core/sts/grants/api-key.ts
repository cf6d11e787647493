import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { ApiKeys } from '../../directory/api-keys.js';
import type { Applications } from '../../directory/applications.js';
import type { Resources } from '../../directory/resources.js';
import { autonomousSubject, type Issuance, type TokenResponse } from '../../tokens/issuance.js';
import { InvalidGrant, InvalidRequest } from '../../oauth/errors.js';
import type { GrantContext, GrantHandler } from './grant.js';
import { issueFor, resolveAutonomousTarget } from './autonomous-target.js';
import type { SecretRelease } from '../../tokens/secret-release.js';

/** One answer for every bad key, so the endpoint cannot be used to tell them apart. */
const badKey = (reason: string): InvalidGrant => new InvalidGrant('the API key is invalid', { reason });

/**
 * API key exchange (`urn:latchkey:params:oauth:grant-type:api-key`, alias `api_key`): a long-lived
 * `lk_sk_…` key buys a short-lived JWT for its application. The key authenticates the client; if the
 * request also authenticates one, it must be the same.
 */
export class ApiKeyGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.apiKey;
  readonly parameters = new Set(['api_key', 'scope', 'resource']);
  readonly authenticatesItself = true;

  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly applications: Applications,
    private readonly resources: Resources,
    private readonly issuance: Issuance,
    private readonly release: SecretRelease,
  ) {}

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    const presented = params.get('api_key');
    if (presented === undefined) throw new InvalidRequest('api_key is required');
    const clientId = this.apiKeys.resolve(presented);
    if (!clientId) throw badKey('unknown, revoked or malformed API key');
    const app = this.applications.get(clientId);
    if (!app || !app.enabled) throw badKey('the API key\'s application is disabled');
    if (client && client.app.clientId !== app.clientId) throw badKey('the API key belongs to another client');
    const target = resolveAutonomousTarget(app, params, this.applications, this.resources);
    return issueFor(target, this.issuance, this.release, {
      app,
      subject: autonomousSubject(app.clientId),
      userId: null,
      grantType: this.grantType,
      trustLevel: 'api_key',
      policyAction: 'autonomous',
      transport,
    });
  }
}
