import type { Logger } from '../logger.js';

/**
 * A store that forgets what can no longer matter (expired codes, spent jtis, old token records). A store that
 * forgets in batches returns true while more is left: it is called again on the next turn of the event loop.
 */
export interface Sweepable {
  sweep(): boolean | void;
}

/** The most batches one store gets in one sweep; the rest waits for the next minute. */
const MAX_BATCHES = 200;

/**
 * Sweeps every minute, each store in turn. A failing store is reported and the others still run; the
 * stores sweep in short batches, so no sweep holds the event loop (DESIGN.md §11).
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stores: readonly Sweepable[], private readonly log: Logger, private readonly everyMs = 60_000) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sweep(): void {
    for (const store of this.stores) this.sweepStore(store, MAX_BATCHES);
  }

  private sweepStore(store: Sweepable, batchesLeft: number): void {
    let more: boolean | void;
    try {
      more = store.sweep();
    } catch (error) {
      this.log.warn(`sweep failed: ${(error as Error).message}`);
      return;
    }
    // Between batches other requests run: a long backlog never holds the event loop.
    if (more === true && batchesLeft > 1 && this.timer !== undefined) setImmediate(() => this.sweepStore(store, batchesLeft - 1));
  }
}
