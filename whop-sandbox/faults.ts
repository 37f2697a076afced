// Fault injection: tests switch a fault on, and the very next matching call sees it (an error status,
// a 429 with or without Retry-After, or latency). Faults are checked synchronously when a call
// arrives, so there is no window where a freshly added fault is missed. By default a fault answers
// before the call reaches its handler (no effect); `after_effect` lets the handler run first (the
// effect happens) and then delays and/or replaces its answer, as when Whop acts but the answer is
// lost to a timeout or a failing proxy.
import { randomId } from "./ids.ts";
import { matchesPath } from "./path_pattern.ts";

export interface FaultInput {
  method?: string | null;
  path: string;
  status?: number | null;
  body?: unknown;
  retry_after_seconds?: number | null;
  retry_after_header?: boolean;
  latency_ms?: number | null;
  after_effect?: boolean;
  times?: number | null;
}

export interface Fault {
  id: string;
  method: string | null;
  path: string;
  status: number | null;
  body: unknown;
  retry_after_seconds: number | null;
  retry_after_header: boolean;
  latency_ms: number | null;
  /** The call takes effect first; the latency and/or status then apply to its answer. */
  after_effect: boolean;
  /** Calls still to be affected; null = until removed. */
  remaining: number | null;
  /** Calls affected so far. */
  hits: number;
  created_at: string;
}

export class FaultRegistry {
  #faults: Fault[] = [];

  add(input: FaultInput): Fault {
    const fault: Fault = {
      id: randomId("flt"),
      method: input.method ? input.method.toUpperCase() : null,
      path: input.path,
      status: input.status ?? null,
      body: input.body ?? null,
      retry_after_seconds: input.retry_after_seconds ?? null,
      retry_after_header: input.retry_after_header ?? false,
      latency_ms: input.latency_ms ?? null,
      after_effect: input.after_effect ?? false,
      remaining: input.times ?? null,
      hits: 0,
      created_at: new Date().toISOString(),
    };
    this.#faults.push(fault);
    return fault;
  }

  /** Finds the oldest fault matching the call and consumes one use of it (removing it when spent). */
  take(method: string, path: string): Fault | null {
    const fault = this.#faults.find((f) =>
      (f.method === null || f.method === method.toUpperCase()) && matchesPath(f.path, path)
    );
    if (!fault) return null;
    fault.hits++;
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.remove(fault.id);
    }
    return { ...fault };
  }

  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  clear(): void {
    this.#faults = [];
  }
}
