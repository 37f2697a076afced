// An open-loop load driver: sends `count` requests at a fixed rate with at most `maxInFlight`
// outstanding, and records each one's status and latency. Open loop (the schedule does not wait for
// answers, up to the in-flight bound) so a slower server shows as higher latency rather than as a
// quietly lower rate. Used by `deno task rollout load-test` and by the load tests and benchmarks.

export interface Sample {
  /** Epoch milliseconds (comparable across threads). */
  sentAt: number;
  latencyMs: number;
  /** 0 = no answer (connection error). */
  status: number;
}

export interface PacedResult {
  statuses: Map<number, number>;
  /** In completion order. */
  samples: Sample[];
  /** From the first send to the last answer. */
  elapsedMs: number;
}

/** Now, in epoch milliseconds with performance.now()'s precision. */
export const epochNow = () => performance.timeOrigin + performance.now();

export interface PacedOptions {
  /** Called with each answer as it arrives (progress lines). */
  onAnswer?: (sample: Sample) => void;
  /** Once aborted, nothing more is sent; what is in flight is still awaited. */
  signal?: AbortSignal;
}

export async function paced(
  count: number,
  ratePerSecond: number,
  maxInFlight: number,
  send: (index: number) => Promise<Response>,
  options: PacedOptions = {},
): Promise<PacedResult> {
  const statuses = new Map<number, number>();
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let i = 0; i < count && !options.signal?.aborted; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait, options.signal);
    if (options.signal?.aborted) break;
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const sentAt = performance.now();
    const request: Promise<void> = send(i)
      .then(async (response) => {
        await response.arrayBuffer(); // read to the end so the connection is reused
        return response.status;
      }, () => 0)
      .then((status) => {
        const sample = {
          sentAt: performance.timeOrigin + sentAt,
          latencyMs: performance.now() - sentAt,
          status,
        };
        samples.push(sample);
        options.onAnswer?.(sample);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        inFlight.delete(request);
      });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  return { statuses, samples, elapsedMs: performance.now() - started };
}

/** Waits `ms`, or less if `signal` aborts first (a slow rate such as 300/h waits 12 s per send). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
