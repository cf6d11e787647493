import { GRANT_TYPES } from '../../../../shared/domain.js';
import type { Applications } from '../../directory/applications.js';
import type { Resources } from '../../directory/resources.js';
import { autonomousSubject, type Issuance, type TokenResponse } from '../../tokens/issuance.js';
import { AssertionRejected, type AssertionVerifier } from '../assertions.js';
import { InvalidGrant, InvalidRequest, UnauthorizedClient } from '../../oauth/errors.js';
import type { GrantContext, GrantHandler } from './grant.js';
import { issueFor, resolveAutonomousTarget } from './autonomous-target.js';
import type { SecretRelease } from '../../tokens/secret-release.js';

/**
 * JWT bearer grant (RFC 7523 §2.1): an assertion signed by a key registered on the application, whose
 * `sub` is the application itself, buys a token for one of its dependencies. Replay-protected by `jti`.
 */
export class JwtBearerGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.jwtBearer;
  readonly parameters = new Set(['assertion', 'scope', 'resource']);
  readonly authenticatesItself = true;

  constructor(
    private readonly assertions: AssertionVerifier,
    private readonly audiences: () => readonly string[],
    private readonly applications: Applications,
    private readonly resources: Resources,
    private readonly issuance: Issuance,
    private readonly release: SecretRelease,
  ) {}

  async handle({ client, params, transport }: GrantContext): Promise<TokenResponse> {
    const assertion = params.get('assertion');
    if (assertion === undefined) throw new InvalidRequest('assertion is required');
    let verified;
    try {
      verified = await this.assertions.verify(assertion, this.audiences());
    } catch (error) {
      // RFC 7523 §3.1: an invalid assertion is invalid_grant.
      if (error instanceof AssertionRejected) throw new InvalidGrant('the assertion is invalid', { reason: error.reason });
      throw error;
    }
    const { app, payload } = verified;
    if (payload.sub !== app.clientId) throw new InvalidGrant('the assertion is invalid', { reason: 'assertion sub must be the application itself' });
    if (client && client.app.clientId !== app.clientId) throw new InvalidGrant('the assertion is invalid', { reason: 'assertion issued by another client' });
    if (!app.enabled) throw new InvalidGrant('the assertion is invalid', { reason: 'application is disabled' });
    if (!app.grantTypes.includes(this.grantType)) throw new UnauthorizedClient('the client may not use this grant type');
    const target = resolveAutonomousTarget(app, params, this.applications, this.resources);
    // The jti is used up only by a request that is otherwise good (RFC 7523 §3 item 7): a refusal changes nothing.
    try {
      this.assertions.consume(verified);
    } catch (error) {
      if (error instanceof AssertionRejected) throw new InvalidGrant('the assertion is invalid', { reason: error.reason });
      throw error;
    }
    return issueFor(target, this.issuance, this.release, {
      app,
      subject: autonomousSubject(app.clientId),
      userId: null,
      grantType: this.grantType,
      trustLevel: 'key_bound',
      policyAction: 'autonomous',
      transport,
    });
  }
}
