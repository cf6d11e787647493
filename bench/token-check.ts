import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { send } from './http.js';

/** One side of the comparison: where its token endpoint is and what the bench sends it. */
export interface TokenTarget {
  name: string;
  issuer: string;
  tokenEndpoint: string;
  /** The local socket, when the requests go over it rather than loopback TCP. */
  socketPath?: string | undefined;
  /** `Basic …` (RFC 6749 §2.3.1). */
  authorization: string;
  /** The form body: grant_type=client_credentials, resource, scope (or a token exchange's parameters). */
  body: string;
  resource: string;
  scope: string;
}

export interface TokenCheck {
  status: number;
  alg: string;
  typ: string | undefined;
  aud: string | string[] | undefined;
  scope: unknown;
  bytes: number;
  /** Token exchange (RFC 8693 §4.1): who acts, and how many exchanges deep; absent otherwise. */
  act?: unknown;
  delegation_depth?: unknown;
}

/** What a token must carry beyond audience and scope, checked after its signature; throws when it does not. */
export type ClaimsCheck = (claims: JWTPayload) => void;

/** RFC 6749 §2.3.1: client_id and secret each form-urlencoded, joined by a colon, then base64. */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export function tokenRequestBody(resource: string, scope: string): string {
  return new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString();
}

/**
 * Before anything is measured: the endpoint must answer 200 with an ES256 JWT that verifies against the
 * issuer's published JWKS, for the requested resource and scope. A benchmark of error responses would
 * measure nothing.
 */
export async function checkTokenEndpoint(target: TokenTarget, claims?: ClaimsCheck): Promise<TokenCheck> {
  return (await verifiedToken(target, claims)).check;
}

/** As checkTokenEndpoint, and the token itself, for a bench that goes on to use it (a subject token). */
export async function verifiedToken(target: TokenTarget, claims?: ClaimsCheck): Promise<{ check: TokenCheck; accessToken: string }> {
  const response = await requestToken(target);
  const text = response.text;
  if (response.status !== 200) throw new Error(`${target.name}: the token endpoint answered ${response.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { access_token?: unknown; token_type?: unknown; scope?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token.split('.').length !== 3) throw new Error(`${target.name}: no JWT access token in ${text.slice(0, 300)}`);
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') throw new Error(`${target.name}: token_type is ${String(body.token_type)}`);

  const metadata = await (await fetch(`${target.issuer}/.well-known/openid-configuration`)).json() as { jwks_uri: string };
  const jwks = await (await fetch(metadata.jwks_uri)).json() as Parameters<typeof createLocalJWKSet>[0];
  const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
    issuer: target.issuer,
    audience: target.resource,
    algorithms: ['ES256'],
  });
  if (payload.scope !== target.scope) throw new Error(`${target.name}: the token's scope is ${String(payload.scope)}, not ${target.scope}`);
  try {
    claims?.(payload);
  } catch (error) {
    throw new Error(`${target.name}: ${(error as Error).message}`);
  }
  const check: TokenCheck = {
    status: response.status,
    alg: protectedHeader.alg,
    typ: protectedHeader.typ,
    aud: payload.aud,
    scope: payload.scope,
    bytes: Buffer.byteLength(text),
    ...(payload.act === undefined ? {} : { act: payload.act, delegation_depth: payload.delegation_depth }),
  };
  return { check, accessToken: body.access_token };
}

/** One request as the load sends it, answered with status and body. */
export function requestToken(target: TokenTarget): Promise<{ status: number; text: string }> {
  return send({
    url: target.tokenEndpoint,
    socketPath: target.socketPath,
    method: 'POST',
    headers: { authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: target.body,
  });
}
