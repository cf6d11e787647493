import type { Clock } from '../clock.js';

/**
 * A token bucket: `burst` requests at once, then one every `60 / perMinute` seconds. In memory and per
 * process: it guards one broker's endpoint against a flood from the local machine, needs no storage,
 * and a restart that empties it costs an attacker a restart of the broker, which it cannot do.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly msPerToken: number;

  constructor(private readonly clock: Clock, readonly perMinute: number, readonly burst: number) {
    this.tokens = burst;
    this.updatedAt = clock.now();
    this.msPerToken = 60_000 / perMinute;
  }

  /** Takes a token; when none is left, returns how many seconds until one is (for Retry-After). */
  take(): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.updatedAt) / this.msPerToken);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) * this.msPerToken / 1000)) };
  }
}
