import type { ServerResponse } from 'node:http';
import type { AuditLog } from '../audit/audit-log.js';

/** How often open streams are told of new rows; also their keep-alive (under both listeners' idle timeouts). */
const POLL_MS = 1_000;
const HEARTBEAT_EVERY = 5;
const ROWS_PER_TICK = 2_000;

/**
 * The admin API's live feed of new audit rows (`GET /api/audit/events`, server-sent events): each open
 * stream gets `event: audit` with the row as JSON (what `GET /api/audit` lists). It reads the committed
 * log (rows after the last one sent) rather than hooking `append`: a row written in a transaction that
 * then rolls back must never be announced. It polls only while a stream is open.
 */
export class AuditFeed {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private lastSeq = 0;
  private ticks = 0;

  constructor(private readonly audit: AuditLog, private readonly log: { warn(message: string): void }) {}

  /** Takes over a response as an event stream until the client goes away or the broker closes. */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    response.write(': latchkey audit\n\n');
    if (this.streams.size === 0) this.lastSeq = this.head();
    this.streams.add(response);
    response.on('close', () => {
      this.streams.delete(response);
      if (this.streams.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), POLL_MS);
      this.timer.unref();
    }
  }

  /** Ends every stream (the broker is closing). */
  close(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.stop();
  }

  private tick(): void {
    let events = '';
    try {
      // Oldest first and from where it stopped: a burst is sent over a few ticks, never skipped.
      for (const row of this.audit.after(this.lastSeq, ROWS_PER_TICK)) {
        // JSON.stringify escapes line breaks, so one event is one data line.
        events += `event: audit\nid: ${row.seq}\ndata: ${JSON.stringify(row)}\n\n`;
        this.lastSeq = row.seq;
      }
    } catch (error) {
      this.log.warn(`the audit feed could not read the log: ${(error as Error).message}`);
      return;
    }
    if (!events && ++this.ticks % HEARTBEAT_EVERY === 0) events = ': keep-alive\n\n';
    if (events) for (const stream of this.streams) stream.write(events);
  }

  private head(): number {
    return this.audit.list({ limit: 1 })[0]?.seq ?? 0;
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
