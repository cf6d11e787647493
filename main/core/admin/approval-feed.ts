import type { ServerResponse } from 'node:http';
import type { ApprovalView } from '../../../shared/admin-api.js';
import type { ApprovalPrompt, Prompter } from '../consent/prompter.js';

/** Under the idle timeouts of both listeners (30 s on TCP, 10 s on the local socket). */
const HEARTBEAT_MS = 5_000;

/** What the admin API and its live feed say about an approval (no secret: the auth_req_id is never kept). */
export function approvalView(prompt: ApprovalPrompt): ApprovalView {
  return {
    id: prompt.id,
    client_id: prompt.clientId,
    application: prompt.applicationName,
    user_id: prompt.userId,
    resources: prompt.resources,
    scopes: prompt.scopes,
    binding_message: prompt.bindingMessage,
    created_at: new Date(prompt.createdAt).toISOString(),
    expires_at: new Date(prompt.expiresAt).toISOString(),
  };
}

/**
 * The admin API's live feed of new approvals (`GET /api/approvals/events`, server-sent events): the
 * headless broker's Prompter. Each open stream gets `event: approval` with the approval as JSON; the UI
 * answers through `POST /api/approvals/:id/approve|deny`. A comment line keeps idle streams open.
 */
export class ApprovalFeed implements Prompter {
  private readonly streams = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  /** Takes over a response as an event stream until the client goes away or the broker closes. */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    response.write(': latchkey approvals\n\n');
    this.streams.add(response);
    response.on('close', () => {
      this.streams.delete(response);
      if (this.streams.size === 0) this.stopHeartbeat();
    });
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => { for (const stream of this.streams) stream.write(': keep-alive\n\n'); }, HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  approvalRequested(prompt: ApprovalPrompt): void {
    // JSON.stringify escapes line breaks, so one event is one data line.
    const event = `event: approval\ndata: ${JSON.stringify(approvalView(prompt))}\n\n`;
    for (const stream of this.streams) stream.write(event);
  }

  /** Ends every stream (the broker is closing). */
  close(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.stopHeartbeat();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
