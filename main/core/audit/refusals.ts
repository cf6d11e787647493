import { OAuthError } from '../oauth/errors.js';
import type { AuditEvent, AuditLog } from './audit-log.js';

/**
 * What a refused request is recorded with, besides why: identifiers only, never a secret. `clientId` is
 * the client id as claimed when the client did not authenticate.
 */
export type Refusal = Omit<AuditEvent, 'decision' | 'reason'>;

// Claimed values come from anyone who can reach 127.0.0.1: bounded, so a request cannot grow a row at will.
const IDENTIFIER_MAX = 200;
/** A resource is a URI (RFC 8707 §2), longer than an identifier. */
const RESOURCE_MAX = 2048;
const REASON_MAX = 500;

/** The audit reason of a refused request: the RFC error code, then what the log may know beyond what the client was told. */
export function refusalReason(error: OAuthError): string {
  return `${error.error}: ${error.reason ?? error.description ?? ''}`;
}

/**
 * Records refused requests (every refusal is audited, DESIGN.md §2) for every endpoint, in one shape.
 * A refusal stands whether or not it could be recorded: `record` never throws. What must never go
 * unrecorded is an issuance, and that is written in the issuance's own transaction, not here. This is
 * also where unauthenticated refusals are to be coalesced and rate-limited (DESIGN.md §11).
 */
export class RefusalRecorder {
  constructor(private readonly audit: AuditLog) {}

  /** `why` is the error the caller was answered with (its `auditDetail` joins the row's detail), or a reason already worded. */
  record(refusal: Refusal, why: OAuthError | string): void {
    const auditDetail = why instanceof OAuthError ? why.auditDetail : undefined;
    try {
      this.audit.record({
        event: refusal.event,
        decision: 'deny',
        clientId: bounded(refusal.clientId, IDENTIFIER_MAX),
        subject: bounded(refusal.subject, IDENTIFIER_MAX),
        grantType: bounded(refusal.grantType, IDENTIFIER_MAX),
        resource: bounded(refusal.resource, RESOURCE_MAX),
        jti: bounded(refusal.jti, IDENTIFIER_MAX),
        reason: (why instanceof OAuthError ? refusalReason(why) : why).slice(0, REASON_MAX),
        // What the endpoint knows of the request is not relabelled by an error raised further down.
        ...(auditDetail || refusal.detail ? { detail: { ...auditDetail, ...refusal.detail } } : {}),
      });
    } catch {
      // The refusal stands whether or not it could be recorded.
    }
  }
}

const bounded = (value: string | null | undefined, max: number): string | null => value?.slice(0, max) ?? null;
