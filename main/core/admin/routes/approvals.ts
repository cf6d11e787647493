import { approveRequest } from '../../../../shared/admin-api.js';
import type { Approval } from '../../consent/approvals.js';
import { InvalidRequest } from '../../oauth/errors.js';
import { sendJson } from '../../transport/http-app.js';
import { idParams, parse, type AdminScope } from '../admin-scope.js';
import { approvalView } from '../approval-feed.js';

/** Approvals for agents without a browser (issue 5 item 2): what waits, the user's answer, a live feed. */
export function registerApprovalRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.get('/approvals', async (_request, reply) => sendJson(reply, deps.approvals.pending().map(approvalView)));

  api.get('/approvals/events', async (request, reply) => {
    if (request.url.includes('?')) throw new InvalidRequest('the feed takes no parameters');
    reply.hijack();
    deps.approvalFeed.open(reply.raw);
  });

  const answered = (approval: Approval) => ({ ...approvalView(deps.approvals.prompt(approval)), status: approval.status, consent_id: approval.consentId });
  api.post('/approvals/:id/approve', async (request, reply) => {
    requireOwner(request);
    const { id } = parse(idParams, request.params);
    const { remember_seconds } = parse(approveRequest, request.body ?? {});
    return sendJson(reply, answered(deps.approvals.approve(id, { rememberSeconds: remember_seconds })));
  });
  api.post('/approvals/:id/deny', async (request, reply) => sendJson(reply, answered(deps.approvals.deny(parse(idParams, request.params).id))));
}
