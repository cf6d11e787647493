import type { RefusalRecorder } from '../../audit/refusals.js';
import type { Clock } from '../../clock.js';
import { epochSeconds } from '../../clock.js';
import type { Resources } from '../../directory/resources.js';
import type { LiveAccessTokens } from '../../tokens/live-access-tokens.js';
import type { AuthenticatedClient, ClientAuthenticator } from '../client-auth.js';
import { InvalidClient, InvalidRequest, OAuthError } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';

export type IntrospectionResponse = { active: false } | {
  active: true;
  token_type: 'Bearer';
  client_id: string;
  sub: string;
  aud: string;
  scope?: string;
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  /** RFC 8693 §4.1 and issue 4: the delegation chain of an exchanged token. */
  act?: unknown;
  delegation_depth?: number;
};

const INACTIVE = { active: false } as const;

/**
 * Token introspection (RFC 7662). Only an authenticated confidential client may ask, and only about a
 * token issued to it or addressed to a resource it serves; everything else is `{"active": false}`, with
 * nothing more (§2.2: do not reveal why).
 */
export class IntrospectionEndpoint {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly tokens: LiveAccessTokens,
    private readonly resources: Resources,
    private readonly refusals: RefusalRecorder,
    private readonly clock: Clock,
    private readonly issuer: () => string,
  ) {}

  async handle(params: Params, authorization: string | undefined): Promise<IntrospectionResponse> {
    let caller: AuthenticatedClient | null = null;
    try {
      const duplicate = params.firstDuplicate(new Set());
      if (duplicate) throw new InvalidRequest(`parameter ${duplicate} was sent more than once`);
      caller = await this.clients.authenticate(authorization, params);
      // RFC 7662 §2.1: the endpoint MUST require some form of authorization; client_id alone proves nothing.
      if (!caller || caller.method === 'none') throw new InvalidClient('client authentication is required');
      const token = params.get('token');
      if (token === undefined) throw new InvalidRequest('token is required');
      return await this.introspect(caller, token);
    } catch (error) {
      // A refused request is audited; an inactive answer is not a refusal.
      if (error instanceof OAuthError) this.refusals.record({ event: 'token.introspection_refused', clientId: caller?.app.clientId ?? params.get('client_id') }, error);
      throw error;
    }
  }

  private async introspect(caller: AuthenticatedClient, token: string): Promise<IntrospectionResponse> {
    const verified = await this.tokens.verify(token, this.issuer(), epochSeconds(this.clock));
    if (!verified?.state.live) return INACTIVE;
    const { payload } = verified;
    const servedBy = this.resources.get(payload.aud)?.servedBy ?? null;
    if (caller.app.clientId !== payload.client_id && caller.app.clientId !== servedBy) return INACTIVE;

    return {
      active: true,
      token_type: 'Bearer',
      client_id: payload.client_id,
      sub: payload.sub,
      aud: payload.aud,
      ...(payload.scope ? { scope: payload.scope } : {}),
      exp: payload.exp,
      iat: payload.iat,
      iss: this.issuer(),
      jti: payload.jti,
      ...(payload.act ? { act: payload.act } : {}),
      ...(payload.delegation_depth !== undefined ? { delegation_depth: payload.delegation_depth } : {}),
    };
  }
}
