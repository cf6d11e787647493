import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { ApiKeys } from '../../directory/api-keys.js';
import type { Applications } from '../../directory/applications.js';
import { InvalidGrant, InvalidRequest } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { autonomousSubject, type Issuance } from '../../tokens/credential-issuer.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { TargetResolver } from '../targets.js';
import type { GrantHandler, TokenContext } from './grant.js';

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

  constructor(private readonly apiKeys: ApiKeys, private readonly applications: Applications, private readonly targets: TargetResolver) {}

  async authenticate(params: Params, presented: AuthenticatedClient | null): Promise<AuthenticatedClient> {
    const key = params.get('api_key');
    if (key === undefined) throw new InvalidRequest('api_key is required');
    const clientId = this.apiKeys.resolve(key);
    if (!clientId) throw badKey('unknown, revoked or malformed API key');
    const app = this.applications.get(clientId);
    if (!app || !app.enabled) throw badKey('the API key\'s application is disabled');
    if (presented && presented.app.clientId !== app.clientId) throw badKey('the API key belongs to another client');
    // Holding the key is what allows the grant: no registration of it is needed.
    return { app, method: presented?.method ?? 'none', trustLevel: 'api_key' };
  }

  async handle({ client, params }: TokenContext): Promise<Issuance> {
    const target = this.targets.autonomous(client.app, params);
    return { ...target, subject: autonomousSubject(client.app.clientId), userId: null, policyAction: 'autonomous' };
  }
}
