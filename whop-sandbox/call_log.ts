// A bounded, append-only record of every REST call the sandbox answered. Tests use it as the ground
// truth for "what did the app send to Whop" (e.g. each of 10,000 notifications exactly once), so it
// keeps a lot (200,000 by default) but never grows without bound.
import { matchesPath } from "./path_pattern.ts";

export interface CallRecord {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Request headers, lower-cased; `authorization` is masked as "Bearer ***". */
  headers: Record<string, string>;
  /** Whether the Authorization header matched the sandbox's API key (true when no key is set). */
  auth_matched: boolean;
  idempotency_key: string | null;
  /** True when the answer was replayed from the idempotency cache (no second effect). */
  idempotent_replay: boolean;
  /** Parsed JSON body; the raw text when it is not JSON; null when empty. */
  body: unknown;
  status: number;
  fault_id: string | null;
  duration_ms: number;
}

export interface CallFilter {
  method?: string;
  /** Exact path or a pattern with "*" segments. */
  path?: string;
  status?: number;
  /** Only calls with seq greater than this. */
  since?: number;
}

export class CallLog {
  #items: CallRecord[] = [];
  #seq = 0;

  constructor(readonly capacity = 200_000) {}

  nextSeq(): number {
    return ++this.#seq;
  }

  add(record: CallRecord): void {
    this.#items.push(record);
    // Trim in chunks so a full log does not pay an O(n) shift on every call.
    if (this.#items.length > this.capacity + Math.max(1, Math.floor(this.capacity / 10))) {
      this.#items = this.#items.slice(this.#items.length - this.capacity);
    }
  }

  list(filter: CallFilter = {}): CallRecord[] {
    const method = filter.method?.toUpperCase();
    const items = this.#items.length > this.capacity
      ? this.#items.slice(this.#items.length - this.capacity)
      : this.#items;
    return items.filter((c) =>
      (!method || c.method === method) &&
      (!filter.path || matchesPath(filter.path, c.path)) &&
      (filter.status === undefined || c.status === filter.status) &&
      (filter.since === undefined || c.seq > filter.since)
    );
  }

  get size(): number {
    return Math.min(this.#items.length, this.capacity);
  }

  /** Empties the log; sequence numbers keep increasing so old and new calls never share a seq. */
  clear(): void {
    this.#items = [];
  }
}
