import { pauseAgentsRequest } from '../../../../shared/admin-api.js';
import { sendJson } from '../../transport/http-app.js';
import { jsonBody, parse, type AdminScope } from '../admin-scope.js';

/** The user's brakes (issue 6): "pause all agents", from the tray, the UI or the CLI. Each switch is audited. */
export function registerAgentRoutes({ api, deps, requireOwner }: AdminScope): void {
  api.post('/agents/pause', async (request, reply) => {
    const { paused } = parse(pauseAgentsRequest, jsonBody(request));
    // Pausing is free; resuming gives the agents their power back.
    if (!paused) requireOwner(request);
    return sendJson(reply, { paused: deps.agentPause.set(paused, 'the admin') });
  });
}
