// One dispatch round: claim due jobs in batches, send them a few at a time, record each outcome,
// and respect the per-channel circuit breaker. Bounded by batch size and wall time so one
// invocation always finishes well inside the edge runtime's limits; whatever is left is due for
// the next round (a minute later from pg_cron, seconds later from the local stack runner).
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";
import type { WhopCallOutcome } from "../_shared/whop/client.ts";
import { ensureDestinations } from "./destinations.ts";
import { decide, type RetryPolicy } from "./retry_policy.ts";
import { type ClaimedJob, type SendDeps, sendJob } from "./send_job.ts";
import { onceOnlyClient, settledDecision, sqlLedger } from "./unknown_outcome.ts";

export interface DispatchOptions {
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  maxSeconds: number;
  retry: RetryPolicy;
  breakerThreshold: number;
  breakerCooloffSeconds: number;
  /** Fixed clock for local tests; production passes nothing and the database's now() rules. */
  now?: Date;
}

export type DispatchCounts = Record<
  "claimed" | "sent" | "retried" | "failed" | "dead" | "deferred" | "suppressed" | "skipped" | "cancelled",
  number
>;

interface ClaimRow extends ClaimedJob {
  status: "claimed" | "suppressed" | "skipped" | "cancelled";
}

export async function dispatchRound(
  sql: Sql,
  deps: SendDeps,
  options: DispatchOptions,
): Promise<DispatchCounts> {
  const worker = `dispatch-${crypto.randomUUID().slice(0, 8)}`;
  // Before repeating a call whose outcome was unknown, Whop is checked (unknown_outcome.ts).
  const ledger = sqlLedger(sql, worker, options.now ?? null);
  const deadline = performance.now() + options.maxSeconds * 1000;
  const counts: DispatchCounts = {
    claimed: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    dead: 0,
    deferred: 0,
    suppressed: 0,
    skipped: 0,
    cancelled: 0,
  };
  const now = () => options.now ?? new Date();
  const at = options.now ?? null;

  while (performance.now() < deadline) {
    const rows = await sql<ClaimRow[]>`
      select * from public.claim_due_jobs(${worker}, ${options.batchSize}, ${options.leaseSeconds},
                                          coalesce(${at}::timestamptz, now()))`;
    if (rows.length === 0) break;
    const claimed: ClaimedJob[] = [];
    for (const row of rows) {
      // bigint columns arrive as strings from postgres.js.
      if (row.status === "claimed") {
        claimed.push({
          ...row,
          job_id: Number(row.job_id),
          amount_minor: row.amount_minor === null ? null : Number(row.amount_minor),
        });
      } else counts[row.status]++;
    }
    counts.claimed += claimed.length;
    const nowhere = await ensureDestinations(sql, deps.whop, claimed).catch((error) => {
      log.warn("could not look up where messages should lead; sending them as they are", { error });
      return new Set<string>();
    });
    for (const job of claimed) job.has_destination = !nowhere.has(job.case_id);

    const byChannel = Map.groupBy(claimed, (job) => job.channel);
    await Promise.all([...byChannel].map(([channel, jobs]) => sendChannel(channel, jobs)));
  }
  return counts;

  async function complete(
    job: ClaimedJob,
    outcome: string,
    call: WhopCallOutcome | null,
    error?: string,
    retryAt?: Date,
  ) {
    await sql`select public.complete_job(${job.job_id}, ${worker}, ${outcome}, ${call?.status ?? null},
                                         ${call ? Math.round(call.latencyMs) : null}, ${error ?? null},
                                         ${retryAt ?? null}, coalesce(${at}::timestamptz, now()))`;
  }

  async function breaker(channel: string) {
    const [row] = await sql<{ state: string; retry_at: Date | null }[]>`
      select state, retry_at from public.circuit_breakers where channel = ${channel}`;
    return row ?? { state: "closed", retry_at: null };
  }

  /** Sends one channel's share of a batch, behind that channel's breaker. */
  async function sendChannel(channel: string, jobs: ClaimedJob[]) {
    const soon = () => new Date(now().getTime() + options.breakerCooloffSeconds * 1000);
    const defer = async (held: ClaimedJob[], until: Date, why: string) => {
      for (const job of held) await complete(job, "deferred", null, why, until);
      counts.deferred += held.length;
    };

    const state = await breaker(channel);
    if (state.state === "half_open") {
      return await defer(jobs, soon(), "circuit breaker: another dispatcher is probing");
    }
    if (state.state === "open") {
      if (state.retry_at && state.retry_at > now()) {
        return await defer(jobs, state.retry_at, "circuit breaker open");
      }
      const [{ probe }] = await sql<{ probe: boolean }[]>`
        select public.breaker_try_probe(${channel}, coalesce(${at}::timestamptz, now())) as probe`;
      if (!probe) return await defer(jobs, soon(), "circuit breaker: another dispatcher is probing");
      // This dispatcher holds the one probe: a single job decides whether the channel works again.
      const [probeJob, ...rest] = jobs;
      await sendOne(probeJob);
      const after = await breaker(channel);
      if (after.state !== "closed") {
        return await defer(rest, after.retry_at ?? soon(), "circuit breaker open");
      }
      jobs = rest;
    }

    // Closed: send with bounded concurrency; once the breaker opens, hold back what is left.
    let openUntil: Date | null = null;
    const queue = [...jobs];
    const workers = Array.from({ length: Math.min(options.concurrency, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        if (openUntil) await defer([job], openUntil, "circuit breaker open");
        else openUntil = (await sendOne(job)) ?? openUntil;
      }
    });
    await Promise.all(workers);
  }

  /** Sends one job, records it, and feeds the breaker; returns until when the breaker is open, if it opened. */
  async function sendOne(job: ClaimedJob): Promise<Date | null> {
    let call: WhopCallOutcome;
    try {
      call = await sendJob(job, { ...deps, whop: onceOnlyClient(deps.whop, job, ledger) });
    } catch (error) {
      log.error("sending a job failed unexpectedly", { job_id: job.job_id, error });
      call = {
        ok: false,
        kind: "transient",
        status: null,
        message: "internal error while sending",
        latencyMs: 0,
      };
    }
    const decision = settledDecision(call) ?? decide(call, job.attempts, options.retry, now());
    if (decision.outcome === "sent") {
      await complete(job, "sent", call);
      counts.sent++;
    } else if (decision.outcome === "retry") {
      await complete(job, "retry", call, decision.error, decision.retryAt);
      counts.retried++;
    } else {
      await complete(job, decision.outcome, call, decision.error);
      counts[decision.outcome]++;
    }

    // Only a failing Whop (5xx, timeouts) trips the breaker; a 429 or a 4xx says nothing about it.
    if (call.ok) {
      await sql`select public.breaker_record(${job.channel}, true, ${options.breakerThreshold},
                                             ${options.breakerCooloffSeconds}, coalesce(${at}::timestamptz, now()))`;
    } else if (call.kind === "transient") {
      const [{ state }] = await sql<{ state: string }[]>`
        select public.breaker_record(${job.channel}, false, ${options.breakerThreshold},
                                     ${options.breakerCooloffSeconds}, coalesce(${at}::timestamptz, now())) as state`;
      if (state === "open") {
        log.warn("circuit breaker open", { channel: job.channel });
        return new Date(now().getTime() + options.breakerCooloffSeconds * 1000);
      }
    }
    return null;
  }
}
