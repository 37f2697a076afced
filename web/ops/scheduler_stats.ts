// The nudge scheduler: due jobs not yet sent (queue depth, oldest due age); pg_cron's last runs,
// delivery outcomes per channel in the last hour, and the circuit breakers. The delivery and
// breaker figures are defined in SQL (public.ops_delivery_figures, public.ops_breaker_figures), so
// that the alerts, health, metrics and `rollout verify` all judge the same numbers.
import { redactText } from "../../supabase/functions/_shared/log.ts";
import { type OpsTx, seconds } from "./bounded_read.ts";

export const CHANNELS = ["push", "dm", "incentive"] as const;
/** Attempt outcomes (notification_attempts.status). */
export const ATTEMPT_STATUSES = ["sent", "retry", "failed", "dead", "skipped"] as const;

/** One channel's delivery figures, as public.ops_delivery_figures defines them (the one definition). */
export interface ChannelDelivery {
  attempts: Record<(typeof ATTEMPT_STATUSES)[number], number>;
  /** Attempts that called Whop: sent + retried + failed + dead. */
  tries: number;
  suppressed: number;
  /** sent ÷ tries: a retry is a failed try, a dead job one more. */
  success_rate: number | null;
  /** (retried + failed + dead) ÷ tries. */
  failure_rate: number | null;
}

export interface CronJobRun {
  job: string;
  schedule: string;
  active: boolean;
  last_status: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_message: string | null;
  failures_last_hour: number;
}

export interface QueueStats {
  depth: number;
  oldest_due_age_seconds: number | null;
  pending: number;
  claimed: number;
}

export interface SchedulerStats {
  cron: { available: boolean; jobs: CronJobRun[]; failures_last_hour: number };
  delivery_last_hour: Record<(typeof CHANNELS)[number], ChannelDelivery>;
  /** Every channel together. */
  delivery_total_last_hour: ChannelDelivery;
}

/** A channel's circuit breaker (public.ops_breaker_figures). */
export interface BreakerState {
  channel: string;
  state: string;
  consecutive_failures: number;
  retry_at: string | null;
  /** When it last left closed (kept through re-opens); null while closed. */
  not_closed_since: string | null;
  not_closed_seconds: number | null;
  /** Its dispatcher's cool-off, as recorded when it opened. */
  cooloff_seconds: number | null;
  /** Open or half-open for longer than its cool-off: the probe did not close it. */
  stuck: boolean;
}

/** Cheap (the partial index of open jobs): what /api/health reads as the scheduler's lag. */
export async function readQueueStats(tx: OpsTx): Promise<QueueStats> {
  // Due: pending and due, or claimed with an expired lease (what the dispatcher claims next).
  const [queue] = await tx<{ depth: number; oldest: string | null; pending: number; claimed: number }[]>`
    select count(*) filter (where due)::int as depth,
           extract(epoch from now() - min(scheduled_for) filter (where due)) as oldest,
           count(*) filter (where status = 'pending')::int as pending,
           count(*) filter (where status = 'claimed')::int as claimed
    from (
      select status, scheduled_for,
             (status = 'pending' and scheduled_for <= now()) or (status = 'claimed' and lease_expires_at <= now()) as due
      from public.job_queue where status in ('pending', 'claimed')
    ) open_jobs`;
  return {
    depth: queue.depth,
    oldest_due_age_seconds: seconds(queue.oldest),
    pending: queue.pending,
    claimed: queue.claimed,
  };
}

export async function readSchedulerStats(tx: OpsTx): Promise<SchedulerStats> {
  const rows = await readDeliveryFigures(tx);
  const byChannel = new Map(rows.map((row) => [row.channel, row]));
  const cron = await readCronRuns(tx);
  return {
    cron: { ...cron, failures_last_hour: cron.jobs.reduce((sum, job) => sum + job.failures_last_hour, 0) },
    delivery_last_hour: Object.fromEntries(
      CHANNELS.map((channel) => [channel, byChannel.get(channel)!.delivery]),
    ) as SchedulerStats["delivery_last_hour"],
    delivery_total_last_hour: byChannel.get("all")!.delivery,
  };
}

/** public.ops_delivery_figures over the last hour, per channel and "all". */
async function readDeliveryFigures(tx: OpsTx) {
  const rows = await tx<
    {
      channel: string;
      tries: number;
      sent: number;
      retried: number;
      failed: number;
      dead: number;
      skipped: number;
      suppressed: number;
      success_rate: number | null;
      failure_rate: number | null;
    }[]
  >`select * from public.ops_delivery_figures(now() - interval '1 hour')`;
  return rows.map((row) => ({
    channel: row.channel,
    delivery: {
      attempts: {
        sent: row.sent,
        retry: row.retried,
        failed: row.failed,
        dead: row.dead,
        skipped: row.skipped,
      },
      tries: row.tries,
      suppressed: row.suppressed,
      success_rate: row.success_rate,
      failure_rate: row.failure_rate,
    } satisfies ChannelDelivery,
  }));
}

/** Cheap (three rows): what /api/health reads to tell a Whop outage. */
export async function readBreakers(tx: OpsTx): Promise<BreakerState[]> {
  const rows = await tx<
    {
      channel: string;
      state: string;
      consecutive_failures: number;
      retry_at: Date | null;
      not_closed_since: Date | null;
      not_closed_seconds: number | null;
      cooloff_seconds: number | null;
      stuck: boolean;
    }[]
  >`
    select channel, state, consecutive_failures, retry_at, not_closed_since, not_closed_seconds, cooloff_seconds, stuck
    from public.ops_breaker_figures()`;
  return rows.map((row) => ({
    ...row,
    retry_at: row.retry_at?.toISOString() ?? null,
    not_closed_since: row.not_closed_since?.toISOString() ?? null,
  }));
}

/** Each pg_cron job with its latest run. Messages are shortened and redacted: they are error texts. */
async function readCronRuns(tx: OpsTx): Promise<{ available: boolean; jobs: CronJobRun[] }> {
  const [present] = await tx<{ ok: boolean }[]>`
    select to_regclass('cron.job_run_details') is not null and to_regclass('cron.job') is not null as ok`;
  if (!present.ok) return { available: false, jobs: [] };
  const rows = await tx<
    {
      job: string;
      schedule: string;
      active: boolean;
      status: string | null;
      start_time: Date | null;
      end_time: Date | null;
      message: string | null;
      failures: number;
    }[]
  >`
    select coalesce(j.jobname, 'job ' || j.jobid) as job, j.schedule, j.active, r.status, r.start_time, r.end_time,
           left(r.return_message, 200) as message,
           (select count(*)::int from cron.job_run_details f
            where f.jobid = j.jobid and f.status = 'failed' and f.start_time > now() - interval '1 hour') as failures
    from cron.job j
    left join lateral (
      select d.status, d.start_time, d.end_time, d.return_message from cron.job_run_details d
      where d.jobid = j.jobid order by d.start_time desc nulls last limit 1
    ) r on true
    order by 1`;
  return {
    available: true,
    jobs: rows.map((row) => ({
      job: row.job,
      schedule: row.schedule,
      active: row.active,
      last_status: row.status,
      last_started_at: row.start_time?.toISOString() ?? null,
      last_finished_at: row.end_time?.toISOString() ?? null,
      last_message: row.message === null ? null : redactText(row.message),
      failures_last_hour: row.failures,
    })),
  };
}
