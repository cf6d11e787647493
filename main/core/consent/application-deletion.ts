import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import { withdrawConsent, type Consents } from './consents.js';
import type { IssuedTokens } from '../tokens/issued-tokens.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { Applications } from '../directory/applications.js';
import { DirectoryError } from '../directory/errors.js';

export interface DeletedApplication {
  clientId: string;
  name: string;
  registration: 'admin' | 'dynamic';
  consents: number;
  accessTokens: number;
}

/**
 * Deletes an application and ends everything it was given, in one transaction (the caller's): its
 * consents are withdrawn (which ends their token families, refresh and access tokens included), every
 * other live access token it holds is revoked, then the row goes and the cascade takes its secrets, API
 * keys, codes and families. The audit log keeps what happened, the deletion included; issued_tokens keeps
 * the revoked records, so introspection answers inactive for them. A JWT verified offline stays valid
 * until it expires, as after any revocation.
 */
export function deleteApplication(deps: { applications: Applications; consents: Consents; families: TokenFamilies; issuedTokens: IssuedTokens; audit: AuditLog; clock: Clock }, clientId: string): DeletedApplication {
  const app = deps.applications.get(clientId);
  if (!app) throw new DirectoryError(`unknown application: ${clientId}`, 404);
  const why = 'the application was deleted';
  const now = epochSeconds(deps.clock);
  const accessTokens = deps.issuedTokens.countLive(clientId, now);
  const consents = deps.consents.list({ clientId }).filter((consent) => withdrawConsent(deps.consents, deps.families, deps.audit, consent.id, why) !== null).length;
  // What no consent covers (autonomous grants' tokens) is revoked here, with what was exchanged from it.
  deps.issuedTokens.revokeLiveOf(clientId, now);
  deps.applications.delete(clientId);
  deps.audit.append({ event: 'admin.application_deleted', decision: 'info', clientId, reason: 'admin change',
    detail: { name: app.name, registration: app.registration, consents_withdrawn: consents, access_tokens_revoked: accessTokens } });
  return { clientId, name: app.name, registration: app.registration, consents, accessTokens };
}
