// How long the dashboard takes to answer, measured in-process: a Prometheus histogram per route group
// and status class (cumulative since start), and a fixed-size ring of recent durations for the
// response-time alert's percentiles. Memory stays bounded whatever the traffic.
import type { MiddlewareHandler } from "hono";

export const ROUTE_GROUPS = ["dashboard", "health", "ops", "link", "static", "other"] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Route groups, not paths: paths carry company ids and tokens, which must not become labels. */
export function routeGroup(path: string): RouteGroup {
  if (path.startsWith("/dashboard/") || path === "/dashboard") return "dashboard";
  if (path === "/api/metrics" || path === "/api/alerts") return "ops";
  if (path.startsWith("/api/health") || path.startsWith("/api/scheduler/")) return "health";
  if (path.startsWith("/r/")) return "link";
  if (path.startsWith("/static/")) return "static";
  return "other";
}

export interface HistogramSeries {
  group: RouteGroup;
  status_class: string;
  /** Cumulative counts per bucket of DURATION_BUCKETS_SECONDS (le), then +Inf = count. */
  buckets: number[];
  sum_seconds: number;
  count: number;
}

export interface RecentTimings {
  samples: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  window_seconds: number;
}

export class RequestTimings {
  readonly #durations: Float64Array;
  readonly #times: Float64Array;
  readonly #groups: Uint8Array;
  #next = 0;
  #size = 0;
  readonly #histogram = new Map<string, HistogramSeries>();

  constructor(readonly capacity = 4096) {
    this.#durations = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#groups = new Uint8Array(capacity);
  }

  record(group: RouteGroup, status: number, ms: number, at = Date.now()) {
    this.#durations[this.#next] = ms;
    this.#times[this.#next] = at;
    this.#groups[this.#next] = ROUTE_GROUPS.indexOf(group);
    this.#next = (this.#next + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);

    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${group} ${statusClass}`;
    let series = this.#histogram.get(key);
    if (!series) {
      series = {
        group,
        status_class: statusClass,
        buckets: DURATION_BUCKETS_SECONDS.map(() => 0),
        sum_seconds: 0,
        count: 0,
      };
      this.#histogram.set(key, series);
    }
    const secondsTaken = ms / 1000;
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      if (secondsTaken <= le) series.buckets[i]++;
    });
    series.sum_seconds += secondsTaken;
    series.count++;
  }

  /** Records every request; the ops scrapes are kept out of the alert percentiles (recent). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now();
      await next();
      this.record(routeGroup(new URL(c.req.url).pathname), c.res.status, performance.now() - started);
    };
  }

  histogram(): HistogramSeries[] {
    return [...this.#histogram.values()].sort((a, b) =>
      `${a.group} ${a.status_class}`.localeCompare(`${b.group} ${b.status_class}`)
    );
  }

  /** Percentiles of the requests of the last `windowSeconds` (ops scrapes excluded). */
  recent(windowSeconds: number, now = Date.now()): RecentTimings {
    const since = now - windowSeconds * 1000;
    const ops = ROUTE_GROUPS.indexOf("ops");
    const values: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      if (this.#times[i] >= since && this.#groups[i] !== ops) values.push(this.#durations[i]);
    }
    values.sort((a, b) => a - b);
    const at = (q: number) =>
      values.length === 0
        ? null
        : Math.round(values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]);
    return {
      samples: values.length,
      p50_ms: at(0.5),
      p95_ms: at(0.95),
      p99_ms: at(0.99),
      window_seconds: windowSeconds,
    };
  }
}
