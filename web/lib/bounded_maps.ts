// In-process memory that a flood of distinct keys cannot grow without bound: a TTL cache and a
// per-key token bucket, each holding at most `maxEntries` keys and forgetting the least recently
// used first. The dashboard is one process (ARCHITECTURE section 2), so in-process state is shared
// by every request it serves; a second instance would keep its own.

export type Clock = () => number;

export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    readonly now: Clock = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    // Re-inserting moves the key to the end of the Map's order: the oldest key is always first.
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    evictOldest(this.#entries, this.maxEntries);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface TokenBucketOptions {
  /** Takes allowed at once after a quiet period. */
  burst: number;
  /** One more take becomes available every this many milliseconds. */
  refillMs: number;
  maxEntries: number;
}

/** A token bucket per key: `take` answers null when allowed, else the milliseconds until it would be. */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly options: TokenBucketOptions, readonly now: Clock = Date.now) {}

  take(key: string): number | null {
    const { burst, refillMs, maxEntries } = this.options;
    const now = this.now();
    const bucket = this.#buckets.get(key);
    // A key not seen (or forgotten) starts full: forgetting only ever errs towards letting through.
    let tokens = bucket ? Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs) : burst;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens, at: now });
    evictOldest(this.#buckets, maxEntries);
    return allowed ? null : Math.ceil((1 - tokens) * refillMs);
  }

  get size(): number {
    return this.#buckets.size;
  }
}

function evictOldest(map: Map<string, unknown>, maxEntries: number): void {
  for (const key of map.keys()) {
    if (map.size <= maxEntries) return;
    map.delete(key);
  }
}
