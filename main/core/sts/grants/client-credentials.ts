import { GRANT_TYPES } from '../../../../shared/domain.js';
import { UnauthorizedClient } from '../../oauth/errors.js';
import { autonomousSubject, type Issuance } from '../../tokens/credential-issuer.js';
import type { TargetResolver } from '../targets.js';
import type { GrantHandler, TokenContext } from './grant.js';

/** client_credentials (RFC 6749 §4.4, OAuth 2.1 §4.2) with resource indicators (RFC 8707). */
export class ClientCredentialsGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.clientCredentials;
  readonly parameters = new Set(['scope', 'resource']);

  constructor(private readonly targets: TargetResolver) {}

  async handle({ client, params }: TokenContext): Promise<Issuance> {
    // OAuth 2.1 §4.2: "The client credentials grant type MUST only be used by confidential clients."
    if (client.app.clientType !== 'confidential') throw new UnauthorizedClient('public clients cannot use client_credentials');
    const target = this.targets.autonomous(client.app, params);
    return { ...target, subject: autonomousSubject(client.app.clientId), userId: null, policyAction: 'autonomous' };
  }
}
