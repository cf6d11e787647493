import { GRANT_TYPES } from '../../../../shared/domain.js';
import { InvalidGrant, InvalidRequest, UnauthorizedClient } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { autonomousSubject, type Issuance } from '../../tokens/credential-issuer.js';
import { AssertionRejected, type AssertionVerifier, type VerifiedAssertion } from '../assertions.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { TargetResolver } from '../targets.js';
import type { GrantHandler, TokenContext } from './grant.js';

const badAssertion = (reason: string): InvalidGrant => new InvalidGrant('the assertion is invalid', { reason });

/**
 * JWT bearer grant (RFC 7523 §2.1): an assertion signed by a key registered on the application, whose
 * `sub` is the application itself, buys a token for one of its dependencies. Replay-protected by `jti`.
 */
export class JwtBearerGrant implements GrantHandler {
  readonly grantType = GRANT_TYPES.jwtBearer;
  readonly parameters = new Set(['assertion', 'scope', 'resource']);
  /** The assertion each request authenticated with, until its grant spends the jti. */
  private readonly verified = new WeakMap<Params, VerifiedAssertion>();

  constructor(private readonly assertions: AssertionVerifier, private readonly audiences: () => readonly string[], private readonly targets: TargetResolver) {}

  async authenticate(params: Params, presented: AuthenticatedClient | null): Promise<AuthenticatedClient> {
    const assertion = params.get('assertion');
    if (assertion === undefined) throw new InvalidRequest('assertion is required');
    let verified;
    try {
      verified = await this.assertions.verify(assertion, this.audiences());
    } catch (error) {
      // RFC 7523 §3.1: an invalid assertion is invalid_grant.
      if (error instanceof AssertionRejected) throw badAssertion(error.reason);
      throw error;
    }
    const { app, payload } = verified;
    if (payload.sub !== app.clientId) throw badAssertion('assertion sub must be the application itself');
    if (presented && presented.app.clientId !== app.clientId) throw badAssertion('assertion issued by another client');
    if (!app.enabled) throw badAssertion('application is disabled');
    if (!app.grantTypes.includes(this.grantType)) throw new UnauthorizedClient('the client may not use this grant type');
    this.verified.set(params, verified);
    return { app, method: presented?.method ?? 'private_key_jwt', trustLevel: 'key_bound' };
  }

  async handle({ client, params }: TokenContext): Promise<Issuance> {
    const verified = this.verified.get(params);
    if (!verified) throw new InvalidRequest('assertion is required');
    const target = this.targets.autonomous(client.app, params);
    return {
      ...target, subject: autonomousSubject(client.app.clientId), userId: null, policyAction: 'autonomous',
      // The jti is used up only by a request that is otherwise good (RFC 7523 §3 item 7), in the issuing write.
      spend: () => {
        try {
          this.assertions.consume(verified);
        } catch (error) {
          if (error instanceof AssertionRejected) throw badAssertion(error.reason);
          throw error;
        }
      },
    };
  }
}
