import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Applications } from '../../directory/applications.js';
import type { Resources } from '../../directory/resources.js';
import { autonomousSubject, type Issuance, type TokenResponse } from '../../tokens/issuance.js';
import { InvalidClient, UnauthorizedClient } from '../../oauth/errors.js';
import type { GrantContext, GrantHandler } from './grant.js';
import { issueFor, resolveAutonomousTarget } from './autonomous-target.js';
import type { SecretRelease } from '../../tokens/secret-release.js';

/** client_credentials (RFC 6749 §4.4, OAuth 2.1 §4.2) with resource indicators (RFC 8707). */
export class ClientCredentialsGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.clientCredentials;
  readonly parameters = new Set(['scope', 'resource']);
  readonly authenticatesItself = false;

  constructor(private readonly applications: Applications, private readonly resources: Resources, private readonly issuance: Issuance, private readonly release: SecretRelease) {}

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    if (!client) throw new InvalidClient('client authentication is required');
    // OAuth 2.1 §4.2: "The client credentials grant type MUST only be used by confidential clients."
    if (client.app.clientType !== 'confidential') throw new UnauthorizedClient('public clients cannot use client_credentials');
    const target = resolveAutonomousTarget(client.app, params, this.applications, this.resources);
    return issueFor(target, this.issuance, this.release, {
      app: client.app,
      subject: autonomousSubject(client.app.clientId),
      userId: null,
      grantType: this.grantType,
      trustLevel: client.trustLevel,
      policyAction: 'autonomous',
      transport,
    });
  }
}
