/** A credential as the cache keeps it: when it was asked for and when it expires, by the client's clock (ms). */
export interface Cached<T> {
  value: T;
  obtainedAt: number;
  expiresAt: number | undefined;
}

/** At most this long before expiry a cached credential is replaced… */
const MAX_REFRESH_MARGIN_MS = 60_000;
/** …or this share of its lifetime, whichever is smaller (a 30 s token is renewed 3 s early, not at once). */
const REFRESH_SHARE = 0.1;

/**
 * Credentials in memory, per key, renewed before they expire; concurrent requests for the same key
 * share one request to the broker (single flight). A failed request is not cached: the next call asks
 * again. A credential without a lifetime (`expires_in` absent) is never reused.
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  private readonly inFlight = new Map<string, Promise<Cached<T>>>();

  constructor(private readonly now: () => number) {}

  async get(key: string, fetch: () => Promise<Cached<T>>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached && this.isFresh(cached)) return cached.value;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = fetch().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const fetched = await pending;
    if (fetched.expiresAt !== undefined) this.entries.set(key, fetched);
    else this.entries.delete(key);
    return fetched.value;
  }

  clear(): void {
    this.entries.clear();
  }

  private isFresh(entry: Cached<T>): boolean {
    if (entry.expiresAt === undefined) return false;
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, (entry.expiresAt - entry.obtainedAt) * REFRESH_SHARE);
    return this.now() < entry.expiresAt - margin;
  }
}
