import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import type { Application, Applications } from '../directory/applications.js';
import { ASSERTION_ALGORITHMS } from '../directory/jwks.js';
import type { ReplayGuard } from './replay-guard.js';

/** The longest an assertion may live (RFC 7523 §3 item 4 lets the server bound `exp`). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 30;

/** Why an assertion was refused: for the audit log only; clients get a generic description. */
export class AssertionRejected extends Error {
  constructor(readonly reason: string, readonly clientId?: string) {
    super(reason);
    this.name = 'AssertionRejected';
  }
}

export interface VerifiedAssertion {
  app: Application;
  payload: JWTPayload & { iss: string; sub: string; jti: string; exp: number };
}

/**
 * Verifies JWTs signed by an application's registered key: private_key_jwt client assertions
 * (RFC 7523 §3, §2.2) and jwt-bearer grants (§2.1). Keys come only from the registration, never from
 * the token's header; only asymmetric algorithms; `aud` must be exactly one of ours, as a single string;
 * `exp` and `jti` are required, `exp` is short, and a `jti` is accepted once: `verify` checks, and the
 * caller `consume`s the assertion once its own checks have passed, so a refused assertion changes nothing.
 */
export class AssertionVerifier {
  /** Per client: the registered JWKS (as JSON, to notice a change) and jose's key set for it. */
  private readonly keySets = new Map<string, { jwks: string; set: ReturnType<typeof createLocalJWKSet> }>();

  constructor(
    private readonly applications: Applications,
    private readonly replay: ReplayGuard,
    private readonly clock: Clock,
  ) {}

  async verify(jwt: string, audiences: readonly string[]): Promise<VerifiedAssertion> {
    let header;
    let unverified;
    try {
      header = decodeProtectedHeader(jwt);
      unverified = decodeJwt(jwt);
    } catch {
      throw new AssertionRejected('assertion is not a JWT');
    }
    if (typeof header.alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new AssertionRejected(`assertion algorithm ${String(header.alg)} is not accepted`);
    }
    const clientId = typeof unverified.iss === 'string' ? unverified.iss : undefined;
    const app = clientId ? this.applications.get(clientId) : null;
    if (!app || !app.jwks) throw new AssertionRejected('assertion issuer is not an application with registered keys', clientId);

    const now = epochSeconds(this.clock);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.keySet(app), {
        algorithms: this.algorithmsOf(app),
        currentDate: new Date(now * 1000),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      }));
    } catch (error) {
      const why = error instanceof joseErrors.JWKSNoMatchingKey ? 'no registered key matches the assertion'
        : error instanceof joseErrors.JWTExpired ? 'assertion has expired'
        : error instanceof joseErrors.JOSEAlgNotAllowed ? 'assertion algorithm is not allowed for this client'
        : error instanceof joseErrors.JWSSignatureVerificationFailed ? 'assertion signature is invalid'
        : 'assertion is invalid';
      throw new AssertionRejected(why, app.clientId);
    }
    // RFC 7523 §3 item 3, tightened as in draft-ietf-oauth-rfc7523bis: one audience, as a string.
    if (typeof payload.aud !== 'string' || !audiences.includes(payload.aud)) throw new AssertionRejected('assertion audience must be exactly this issuer or its token endpoint', app.clientId);
    if (payload.exp! > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) throw new AssertionRejected('assertion lifetime is too long', app.clientId);
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw new AssertionRejected('assertion jti is invalid', app.clientId);
    if (typeof payload.sub !== 'string') throw new AssertionRejected('assertion sub is invalid', app.clientId);
    return { app, payload: payload as VerifiedAssertion['payload'] };
  }

  /** RFC 7523 §3 item 7: marks the assertion's `jti` used; a `jti` seen before is a replay. Call last. */
  consume({ app, payload }: VerifiedAssertion): void {
    if (!this.replay.consume(app.clientId, payload.jti, payload.exp)) throw new AssertionRejected('assertion jti was used before (replay)', app.clientId);
  }

  private keySet(app: Application): ReturnType<typeof createLocalJWKSet> {
    const jwks = JSON.stringify(app.jwks);
    const cached = this.keySets.get(app.clientId);
    if (cached && cached.jwks === jwks) return cached.set;
    const set = createLocalJWKSet(app.jwks as unknown as Parameters<typeof createLocalJWKSet>[0]);
    this.keySets.set(app.clientId, { jwks, set });
    return set;
  }

  /** The algorithms of the registered keys where they say; otherwise every asymmetric one we accept. */
  private algorithmsOf(app: Application): string[] {
    const declared = app.jwks!.keys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string');
    return declared.length === app.jwks!.keys.length ? [...new Set(declared)] : [...ASSERTION_ALGORITHMS];
  }
}
