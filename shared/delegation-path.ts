// The delegation chain of an issuance, read from its audit row: who acted for whom, from the user to the
// resource (the UI's audit page draws it as a path user → agent → agent → resource).
import type { AuditRecordView } from './admin-api.js';

export type PathStep =
  | { kind: 'user'; id: string }
  | { kind: 'application'; id: string }
  | { kind: 'resource'; id: string };

/** The rows that hand something out, or refuse to: the ones with a chain worth drawing. */
const ISSUANCE_EVENTS = new Set(['token.issued', 'token.refused', 'secret.released']);

const AUTONOMOUS_PREFIX = 'client:';

/**
 * The path of an issuance: the user (absent for an autonomous token), the applications in the order they
 * acted, and the resource. Token exchange records where the chain began (`origin_client_id`) and its actors
 * most recent first (`actors`, RFC 8693 §4.1 nesting), so a chain user → A → B → C reads back in that order.
 * Null for a row that is not an issuance or names no application or resource.
 */
export function delegationPath(row: Pick<AuditRecordView, 'event' | 'client_id' | 'subject' | 'resource' | 'detail'>): PathStep[] | null {
  if (!ISSUANCE_EVENTS.has(row.event) || !row.client_id || !row.resource) return null;
  const detail = parseDetail(row.detail);
  const steps: PathStep[] = [];
  const subject = typeof detail.subject === 'string' ? detail.subject : row.subject;
  if (subject && !subject.startsWith(AUTONOMOUS_PREFIX)) steps.push({ kind: 'user', id: subject });
  const applications: string[] = [];
  if (Array.isArray(detail.actors)) {
    const origin = typeof detail.origin_client_id === 'string' ? detail.origin_client_id
      : typeof detail.subject_client_id === 'string' ? detail.subject_client_id : null;
    if (origin) applications.push(origin);
    const actors = detail.actors.filter((actor): actor is string => typeof actor === 'string');
    applications.push(...actors.reverse());
  } else if (subject?.startsWith(AUTONOMOUS_PREFIX) && subject.slice(AUTONOMOUS_PREFIX.length) !== row.client_id) {
    applications.push(subject.slice(AUTONOMOUS_PREFIX.length));
  }
  if (applications.length === 0 || applications[applications.length - 1] !== row.client_id) applications.push(row.client_id);
  // An application acts once per chain; the same one twice in a row is one hop recorded from both sides.
  for (const id of applications) {
    const last = steps[steps.length - 1];
    if (last?.kind === 'application' && last.id === id) continue;
    steps.push({ kind: 'application', id });
  }
  steps.push({ kind: 'resource', id: row.resource });
  return steps;
}

function parseDetail(detail: string | null): Record<string, unknown> {
  if (!detail) return {};
  try {
    const parsed: unknown = JSON.parse(detail);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
