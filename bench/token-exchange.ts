// Token exchange (RFC 8693) for the bench: one autonomous delegation hop, agent A → MCP server B → B's
// downstream API, set up through the admin API as an admin would, and checked before it is timed.
import { admin, type LatchkeyProcess } from './latchkey.js';
import { basicAuthorization, tokenRequestBody, verifiedToken, type TokenCheck, type TokenTarget } from './token-check.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** R1: the resource B serves; A's token for it is the subject token. */
export const SERVED_RESOURCE = 'https://mcp.bench.latchkey.test/mcp';
/** R2: B's dependency, the exchange's target. */
export const DOWNSTREAM_RESOURCE = 'https://downstream.bench.latchkey.test/api';
const SCOPE = 'read';
/** The longest a resource's tokens may live (the admin API's maximum): the subject token outlasts any run. */
const SUBJECT_TOKEN_LIFETIME_S = 86_400;

export interface TokenExchangeBench {
  /** B's exchange request, as the load sends it. */
  target: TokenTarget;
  /** The application that exchanges (B): the audit rows of the exchanges name it. */
  requesterClientId: string;
  /** The application the subject token was issued to (A). */
  subjectClientId: string;
  subjectCheck: TokenCheck;
  check: TokenCheck;
}

/**
 * R2; B (confidential, token-exchange only, depends on R2); R1 served by B; A (client_credentials on
 * R1). A gets one autonomous subject token for R1, and B's exchange of it for R2 must answer 200 with a
 * JWT that verifies against the JWKS, acts as B (`act.client_id`) one exchange deep. That request is
 * what the load repeats: the same subject token each time, as a server exchanging the token it was
 * called with would for each downstream call.
 */
export async function setUpTokenExchange(latchkey: LatchkeyProcess): Promise<TokenExchangeBench> {
  await admin(latchkey, 'POST', '/resources', { name: 'Bench downstream API', identifier: DOWNSTREAM_RESOURCE, scopes: ['read', 'write'] });
  const exchanger = await admin<{ client_id: string; client_secret: string }>(latchkey, 'POST', '/applications', {
    name: 'Bench MCP server', identity_type: 'mcp_server', auth_method: 'client_secret_basic', grant_types: ['token-exchange'], resources: [DOWNSTREAM_RESOURCE],
  });
  await admin(latchkey, 'POST', '/resources', {
    name: 'Bench MCP server', identifier: SERVED_RESOURCE, scopes: [SCOPE], token_lifetime: SUBJECT_TOKEN_LIFETIME_S, served_by: exchanger.client_id,
  });
  const agent = await admin<{ client_id: string; client_secret: string }>(latchkey, 'POST', '/applications', {
    name: 'Bench agent', identity_type: 'agent', auth_method: 'client_secret_basic', resources: [SERVED_RESOURCE],
  });

  const tokenEndpoint = `${latchkey.issuer}/oauth2/token`;
  const subject = await verifiedToken({
    name: 'Latchkey subject token', issuer: latchkey.issuer, tokenEndpoint, authorization: basicAuthorization(agent.client_id, agent.client_secret),
    body: tokenRequestBody(SERVED_RESOURCE, SCOPE), resource: SERVED_RESOURCE, scope: SCOPE,
  });
  const target: TokenTarget = {
    name: 'Latchkey token exchange',
    issuer: latchkey.issuer,
    tokenEndpoint,
    authorization: basicAuthorization(exchanger.client_id, exchanger.client_secret),
    body: new URLSearchParams({
      grant_type: TOKEN_EXCHANGE, subject_token: subject.accessToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: DOWNSTREAM_RESOURCE, scope: SCOPE,
    }).toString(),
    resource: DOWNSTREAM_RESOURCE,
    scope: SCOPE,
  };
  const { check } = await verifiedToken(target, (claims) => {
    const act = claims.act as { client_id?: unknown } | undefined;
    if (act?.client_id !== exchanger.client_id) throw new Error(`the exchanged token's act.client_id is ${String(act?.client_id)}, not the exchanging client ${exchanger.client_id}`);
    if (claims.delegation_depth !== 1) throw new Error(`the exchanged token's delegation_depth is ${String(claims.delegation_depth)}, not 1`);
    if (claims.sub !== `client:${agent.client_id}`) throw new Error(`the exchanged token's sub is ${String(claims.sub)}, not the subject token's client:${agent.client_id}`);
  });
  return { target, requesterClientId: exchanger.client_id, subjectClientId: agent.client_id, subjectCheck: subject.check, check };
}
