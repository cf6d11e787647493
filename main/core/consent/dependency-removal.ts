import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import type { IssuedTokens } from '../tokens/issued-tokens.js';

/**
 * What removing a dependency ends (issue 6 item 1): the application's live access tokens for those resources
 * are revoked, with every token exchanged from them, so introspection answers inactive at once. Its consents
 * stay (they may cover other resources), but nothing reaches a removed resource again: every grant checks the
 * application's dependencies, refresh included (RFC 8707 §2.2 `invalid_target`). A JWT verified offline stays
 * valid until it expires, as after any revocation. Call within the transaction that removes and audits it.
 */
export function endAccessToRemovedResources(deps: { issuedTokens: IssuedTokens; clock: Clock }, clientId: string, resources: readonly string[]): number {
  if (resources.length === 0) return 0;
  return deps.issuedTokens.revokeLiveOf(clientId, epochSeconds(deps.clock), resources);
}
