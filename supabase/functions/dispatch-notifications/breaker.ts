// The per-channel circuit breaker as the dispatcher uses it (SQL: public.breaker_try_probe and
// public.breaker_record, 20261203001000_breaker_probe_lease.sql). Every answer from Whop counts:
// a 2xx or a refusal other than 429 says Whop works, a 5xx or timeout that it fails, a 429 that
// it is reachable but wants a pause. A probe is leased to its dispatcher, so one that dies while
// probing only holds the channel until the lease runs out.
import type { Sql } from "../_shared/db.ts";
import type { WhopCallOutcome } from "../_shared/whop/client.ts";

export type BreakerAnswer = "reachable" | "failing" | "rate_limited";

export interface BreakerState {
  state: "closed" | "open" | "half_open";
  consecutive_failures: number;
  retry_at: Date | null;
}

export interface BreakerSettings {
  threshold: number;
  cooloffSeconds: number;
  /** How long a probe is its dispatcher's (the job lease: one job's send fits in it). */
  probeLeaseSeconds: number;
  /** The round's fixed clock (local tests); null: the database's now(). */
  at: Date | null;
}

/** What a call's outcome says about Whop; null when nothing reached Whop. */
export function breakerAnswer(call: WhopCallOutcome): BreakerAnswer | null {
  if (call.ok) return "reachable";
  if (call.kind === "rate_limited") return "rate_limited";
  if (call.kind === "transient") return "failing";
  // Status 0: refused before any request (bad input, or a push not resent).
  return call.status > 0 ? "reachable" : null;
}

export function channelBreaker(sql: Sql, channel: string, settings: BreakerSettings) {
  const at = settings.at;
  return {
    async read(): Promise<BreakerState> {
      const [row] = await sql<BreakerState[]>`
        select state, consecutive_failures, retry_at from public.circuit_breakers where channel = ${channel}`;
      return row ?? { state: "closed", consecutive_failures: 0, retry_at: null };
    },
    /** True when `holder` now holds the channel's one probe. */
    async tryProbe(holder: string): Promise<boolean> {
      const [{ probe }] = await sql<{ probe: boolean }[]>`
        select public.breaker_try_probe(${channel}, ${holder}, ${settings.probeLeaseSeconds},
                                        coalesce(${at}::timestamptz, now())) as probe`;
      return probe;
    },
    /** Records an answer (or, with "unanswered", hands `holder`'s probe back); returns the state. */
    async record(
      answer: BreakerAnswer | "unanswered",
      options: { retryAfterSeconds?: number; holder?: string } = {},
    ): Promise<BreakerState["state"]> {
      const [{ state }] = await sql<{ state: BreakerState["state"] }[]>`
        select public.breaker_record(${channel}, ${answer}, ${settings.threshold}, ${settings.cooloffSeconds},
                                     coalesce(${at}::timestamptz, now()), ${
        options.retryAfterSeconds ?? null
      },
                                     ${options.holder ?? null}) as state`;
      return state;
    },
  };
}

export type ChannelBreaker = ReturnType<typeof channelBreaker>;
