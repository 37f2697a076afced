// One dispatch round: claim due jobs in batches, send them a few at a time, record each outcome,
// and respect the per-channel circuit breaker. Bounded by wall time: after DISPATCH_MAX_SECONDS no
// batch is claimed and no job is started (claimed jobs not started yet are handed back, due at
// once), so a round ends within one job's calls of its budget however slow Whop is; whatever is
// left is due for the next round (a minute later from pg_cron, seconds later from the local stack
// runner). Each claim keeps its jobs' leases while it works (batch_leases.ts) and calls Whop for a
// job only while that job's lease is the claim's, so no job is sent by two dispatchers; a
// completion the database refuses (the job is someone else's by then) is counted as `lease_lost`,
// never as what it would have been.
//
// `concurrency` bounds the calls to Whop in flight, not the work around them: a delivered call's
// slot is freed when Whop answers, so the next call starts while the outcome is being written (any
// other answer keeps its slot until the breaker has heard it, so a failing Whop gets no more calls
// than before). Once every job of a batch has started, the next batch is claimed (at most two claims
// live, sharing the slots), so no slot idles during a claim or a batch's tail; a claim that finds
// nothing while a batch is still out waits for it and looks once more (its sends may have released
// free days that are due at once).
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";
import type { WhopCallOutcome } from "../_shared/whop/client.ts";
import { type BatchLeases, keepLeases } from "./batch_leases.ts";
import { type BreakerAnswer, breakerAnswer, type ChannelBreaker, channelBreaker } from "./breaker.ts";
import { completionWriter, type JobOutcome } from "./completions.ts";
import { ensureDestinations } from "./destinations.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import { type ClaimedJob, type SendDeps, sendJob } from "./send_job.ts";
import { decideAttempt, type JobLedger, onceOnlyClient, sqlLedger } from "./unknown_outcome.ts";

export interface DispatchOptions {
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  maxSeconds: number;
  retry: RetryPolicy;
  breakerThreshold: number;
  breakerCooloffSeconds: number;
  /**
   * WHOP_TIMEOUT_MS: a call that may act needs no lease renewal of its own while its lease is known
   * to last twice this long (the call, then its recording). Not given: every such call renews.
   */
  callTimeoutMs?: number;
  /** Fixed clock for local tests; production passes nothing and the database's now() rules. */
  now?: Date;
}

/**
 * What became of the round's claimed jobs (each ends in exactly one of sent, retried, failed, dead,
 * deferred, released, lease_lost) and of the due jobs it decided without sending (suppressed,
 * skipped, cancelled).
 */
export type DispatchCounts = Record<
  | "claimed"
  | "sent"
  | "retried"
  | "failed"
  | "dead"
  | "deferred"
  | "released"
  | "lease_lost"
  | "suppressed"
  | "skipped"
  | "cancelled",
  number
>;

interface ClaimRow extends ClaimedJob {
  status: "claimed" | "suppressed" | "skipped" | "cancelled";
}

/** A channel's share of a batch, as its workers see the breaker. */
interface ChannelRun {
  channel: string;
  breaker: ChannelBreaker;
  /** Known closed with no failure counted: a success then has nothing to reset (no round trip). */
  clean: boolean;
  /** This worker holds the channel's probe: every answer is recorded. */
  probing: boolean;
}

export async function dispatchRound(
  sql: Sql,
  deps: SendDeps,
  options: DispatchOptions,
): Promise<DispatchCounts> {
  const round = `dispatch-${crypto.randomUUID().slice(0, 8)}`;
  const deadline = performance.now() + options.maxSeconds * 1000;
  const counts: DispatchCounts = {
    claimed: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    dead: 0,
    deferred: 0,
    released: 0,
    lease_lost: 0,
    suppressed: 0,
    skipped: 0,
    cancelled: 0,
  };
  const now = () => options.now ?? new Date();
  const at = options.now ?? null;
  // The first error (the database gone, in practice) stops every worker; the round then fails with it.
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown) => void (failure ??= { error });
  const working = () => failure === null && performance.now() < deadline;

  const slots = callSlots(options.concurrency);
  // Channels whose breaker one of this round's answers opened, until when: both live claims hold back.
  const openUntil = new Map<string, Date>();
  let previous: Promise<void> = Promise.resolve();
  let batchOut = false;
  try {
    for (let batch = 1; working(); batch++) {
      // Each claim is a lease holder of its own: a job claimed again, even by this round, is not this claim's.
      const holder = `${round}.${batch}`;
      const claimSentAt = performance.now();
      const rows = await sql<ClaimRow[]>`
        select * from public.claim_due_jobs(${holder}, ${options.batchSize}, ${options.leaseSeconds},
                                            coalesce(${at}::timestamptz, now()))`;
      if (rows.length === 0) {
        if (!batchOut) break;
        await previous;
        batchOut = false;
        continue;
      }
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
      if (claimed.length === 0) continue;
      let allStarted!: () => void;
      const started = new Promise<void>((resolve) => allStarted = resolve);
      const sending = sendBatch(holder, claimed, claimSentAt, allStarted).catch(fail).finally(allStarted);
      // The next claim waits for the batch before this one to end and for this one to start its last job.
      await Promise.all([previous, started]);
      previous = sending;
      batchOut = true;
    }
  } finally {
    await previous;
  }
  if (failure) throw (failure as { error: unknown }).error;
  return counts;

  async function sendBatch(
    holder: string,
    claimed: ClaimedJob[],
    claimSentAt: number,
    allStarted: () => void,
  ) {
    const ids = claimed.map((job) => job.job_id);
    const leases: BatchLeases = keepLeases(sql, holder, ids, options.leaseSeconds, at, claimSentAt);
    const renewing: JobLedger = sqlLedger(sql, holder, at, options.leaseSeconds);
    const ledger: JobLedger = {
      ...renewing,
      // A lease known to outlast the call and its recording needs no renewal (batch_leases.ts).
      async hold(jobId) {
        if (options.callTimeoutMs && leases.heldFor(jobId, 2 * options.callTimeoutMs)) return true;
        const sentAt = performance.now();
        const held = await renewing.hold(jobId);
        if (held) leases.renewed(jobId, sentAt);
        return held;
      },
    };
    const completions = completionWriter(sql, holder, at);
    const unstarted = new Set(ids);
    const start = (jobId: number) => {
      unstarted.delete(jobId);
      if (unstarted.size === 0) allStarted();
    };
    try {
      const nowhere = await ensureDestinations(sql, deps.whop, claimed).catch((error) => {
        log.warn("could not look up where messages should lead; sending them as they are", { error });
        return new Set<string>();
      });
      for (const job of claimed) job.has_destination = !nowhere.has(job.case_id);

      const byChannel = Map.groupBy(claimed, (job) => job.channel);
      await Promise.all([...byChannel].map(([channel, jobs]) => sendChannel(channel, jobs).catch(fail)));
      // What the time budget left unstarted goes back to the queue (after a failure, the leases
      // run out instead: the database may be gone).
      if (!failure && unstarted.size > 0) await release([...unstarted]);
    } finally {
      await leases.stop();
    }

    async function release(jobIds: number[]) {
      const [{ released }] = await sql<{ released: number }[]>`
        select private.release_jobs(${holder}, ${jobIds}::bigint[]) as released`;
      counts.released += released;
      counts.lease_lost += jobIds.length - released;
      for (const id of jobIds) leases.done(id);
    }

    /** Records a claimed job's outcome; false when the database refused it (no longer this claim's). */
    async function complete(
      job: ClaimedJob,
      outcome: JobOutcome["outcome"],
      call: WhopCallOutcome | null,
      error?: string,
      retryAt?: Date,
    ): Promise<boolean> {
      const recorded = await completions.complete({
        job_id: job.job_id,
        outcome,
        http_status: call?.status ?? null,
        latency_ms: call ? Math.round(call.latencyMs) : null,
        error: error ?? null,
        retry_at: retryAt ?? null,
      });
      leases.done(job.job_id);
      if (!recorded) {
        log.warn("the job's outcome was not recorded: another dispatcher holds it now", {
          job_id: job.job_id,
          outcome,
        });
      }
      return recorded;
    }

    async function defer(held: ClaimedJob[], until: Date, why: string) {
      for (const job of held) start(job.job_id);
      // Together: the completion writer puts them in as few statements as it can.
      const recorded = await Promise.all(held.map((job) => complete(job, "deferred", null, why, until)));
      for (const ok of recorded) ok ? counts.deferred++ : counts.lease_lost++;
    }

    /** Sends one channel's share of the batch, behind that channel's breaker. */
    async function sendChannel(channel: string, jobs: ClaimedJob[]) {
      const breaker = channelBreaker(sql, channel, {
        threshold: options.breakerThreshold,
        cooloffSeconds: options.breakerCooloffSeconds,
        probeLeaseSeconds: options.leaseSeconds,
        at,
      });
      const soon = () => new Date(now().getTime() + options.breakerCooloffSeconds * 1000);
      const state = await breaker.read();
      const run: ChannelRun = {
        channel,
        breaker,
        clean: state.state === "closed" && state.consecutive_failures === 0,
        probing: false,
      };
      const queue = [...jobs];

      if (state.state !== "closed") {
        if (!(await breaker.tryProbe(holder))) {
          const waiting = state.state === "open" && state.retry_at !== null && state.retry_at > now();
          return waiting
            ? await defer(queue, state.retry_at!, "circuit breaker open")
            : await defer(queue, soon(), "circuit breaker: another dispatcher is probing");
        }
        // This claim holds the channel's one probe: one job at a time until Whop answers one of them.
        run.probing = true;
        let answered = false;
        while (!answered && queue.length > 0 && working()) {
          const free = await slots.take();
          try {
            answered = (await sendOne(queue.shift()!, run, free)).answer !== null;
          } finally {
            free();
          }
        }
        run.probing = false;
        if (!answered) await breaker.record("unanswered", { holder });
        if (!working()) return;
        const after = await breaker.read();
        if (after.state !== "closed") {
          const until = after.retry_at !== null && after.retry_at > now() ? after.retry_at : soon();
          return await defer(queue, until, "circuit breaker open");
        }
        run.clean = after.consecutive_failures === 0;
        openUntil.delete(channel);
      }

      // Closed: send with bounded concurrency; once the breaker opens, hold back what is left.
      // One task per job, each taking a slot first: a job still waiting for one when the budget
      // ends is unstarted, and handed back.
      const task = async () => {
        const free = await slots.take();
        const job = working() ? queue.shift() : undefined;
        if (!job) return free();
        const holdUntil = openUntil.get(channel);
        if (holdUntil) {
          free();
          return await defer([job], holdUntil > now() ? holdUntil : soon(), "circuit breaker open");
        }
        try {
          const opened = (await sendOne(job, run, free)).openUntil;
          if (opened) openUntil.set(channel, opened);
        } finally {
          // After openUntil is set: the task this wakes must see it.
          free();
        }
      };
      await Promise.all(queue.map(() => task().catch(fail)));
    }

    /**
     * Sends one job, records it and feeds the breaker. Returns what Whop's answer said about Whop
     * (null: nothing reached it) and, when this answer opened the breaker, until when it is open.
     * `freeSlot` is called as soon as Whop has answered a delivered call outside a probe.
     */
    async function sendOne(
      job: ClaimedJob,
      run: ChannelRun,
      freeSlot: () => void,
    ): Promise<{ answer: BreakerAnswer | null; openUntil: Date | null }> {
      start(job.job_id);
      if (!leases.held(job.job_id)) {
        counts.lease_lost++;
        leases.done(job.job_id);
        return { answer: null, openUntil: null };
      }
      let call: WhopCallOutcome;
      let answer: BreakerAnswer | null;
      try {
        const whop = onceOnlyClient(deps.whop, job, ledger, { maxAttempts: options.retry.maxAttempts });
        call = await sendJob(job, { ...deps, whop });
        answer = breakerAnswer(call);
      } catch (error) {
        log.error("sending a job failed unexpectedly", { job_id: job.job_id, error });
        call = {
          ok: false,
          kind: "transient",
          status: null,
          message: "internal error while sending",
          latencyMs: 0,
        };
        answer = null;
      }
      if (answer === "reachable" && !run.probing) freeSlot();
      const decision = decideAttempt(call, job.attempts, options.retry, now());
      if (decision.outcome === "lease_lost") {
        counts.lease_lost++;
        leases.done(job.job_id);
        return { answer: null, openUntil: null };
      }
      const recorded = decision.outcome === "sent"
        ? await complete(job, "sent", call)
        : decision.outcome === "retry"
        ? await complete(job, "retry", call, decision.error, decision.retryAt)
        : await complete(job, decision.outcome, call, decision.error);
      if (!recorded) counts.lease_lost++;
      else counts[decision.outcome === "retry" ? "retried" : decision.outcome]++;

      return { answer, openUntil: await feedBreaker(run, call, answer) };
    }

    /** Until when the breaker is open, if this answer opened it. */
    async function feedBreaker(
      run: ChannelRun,
      call: WhopCallOutcome,
      answer: BreakerAnswer | null,
    ): Promise<Date | null> {
      if (answer === "reachable") {
        // Closed with no failure counted: nothing to reset, so no round trip per sent job.
        if (run.probing || !run.clean) {
          await run.breaker.record("reachable");
          run.clean = true;
        }
      } else if (answer === "rate_limited") {
        // Only a probe's 429 moves the breaker (open until the advised time); a job's 429 is its own.
        if (run.probing && !call.ok && call.kind === "rate_limited") {
          await run.breaker.record("rate_limited", { retryAfterSeconds: call.retryAfterSeconds });
        }
      } else if (answer === "failing") {
        run.clean = false;
        if ((await run.breaker.record("failing")) === "open") {
          log.warn("circuit breaker open", { channel: run.channel });
          return new Date(now().getTime() + options.breakerCooloffSeconds * 1000);
        }
      }
      return null;
    }
  }
}

/** At most `size` calls at once across the round's live claims; `take` gives the slot's release (idempotent). */
function callSlots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    async take(): Promise<() => void> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let held = true;
      return () => {
        if (held) release();
        held = false;
      };
    },
  };
}
