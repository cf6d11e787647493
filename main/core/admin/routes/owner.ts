import type { FastifyRequest } from 'fastify';
import { ownerPresenceRequest, setOwnerPassphraseRequest, type OwnerView, type PresenceProof } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import type { OwnerState } from '../../consent/owner-presence.js';
import { jsonBody, parse, presenceCallerOf, type AdminScope } from '../admin-scope.js';

const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

const ownerView = (state: OwnerState): OwnerView => ({
  passphrase_set: state.passphraseSet, present_until: iso(state.presentUntil), locked_until: iso(state.lockedUntil),
  failed_attempts: state.failedAttempts, last_failed_at: iso(state.lastFailedAt),
});

/** Which surface the owner typed on: the UI's session, or the CLI (the admin token). */
const surfaceOf = (request: FastifyRequest): 'ui' | 'cli' => (request.adminCaller?.kind === 'session' ? 'ui' : 'cli');

/** The owner passphrase and proof of presence (issue 12 §1; admin/owner-presence.ts). */
export function registerOwnerRoutes({ api, deps }: AdminScope): void {
  api.get('/owner', async (request, reply) => sendJson(reply, ownerView(deps.presence.state(presenceCallerOf(request)))));

  api.post('/owner/passphrase', async (request, reply) => {
    const { passphrase, current_passphrase } = parse(setOwnerPassphraseRequest, jsonBody(request));
    const owner = deps.users.owner();
    await deps.presence.setPassphrase(passphrase, current_passphrase, surfaceOf(request), owner ? [owner.name, owner.email] : []);
    return sendJson(reply, ownerView(deps.presence.state(presenceCallerOf(request))));
  });

  api.post('/owner/presence', async (request, reply) => {
    const { passphrase } = parse(ownerPresenceRequest, jsonBody(request));
    const proof = await deps.presence.prove(presenceCallerOf(request), passphrase, surfaceOf(request));
    const answer: PresenceProof = { present_until: new Date(proof.presentUntil).toISOString(), presence_token: proof.presenceToken };
    return sendJson(reply, answer);
  });
}
