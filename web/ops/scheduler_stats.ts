// The nudge scheduler: due jobs not yet sent (queue depth, oldest due age); pg_cron's last runs,
// delivery outcomes per channel in the last hour, and the circuit breakers.
import { redactText } from "../../supabase/functions/_shared/log.ts";
import { type OpsTx, ratio, seconds } from "./bounded_read.ts";

export const CHANNELS = ["push", "dm", "incentive"] as const;
/** Attempt outcomes (notification_attempts.status). */
export const ATTEMPT_STATUSES = ["sent", "retry", "failed", "dead", "skipped"] as const;

export interface ChannelDelivery {
  attempts: Record<(typeof ATTEMPT_STATUSES)[number], number>;
  suppressed: number;
  /** sent ÷ (sent + failed + dead): final outcomes only; retries and skips are not failures yet. */
  success_rate: number | null;
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
  breakers: { channel: string; state: string; consecutive_failures: number; retry_at: string | null }[];
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
  const attempts = await tx<{ channel: string; status: string; count: number }[]>`
    select j.channel, a.status, count(*)::int as count
    from public.notification_attempts a join public.job_queue j on j.id = a.job_id
    where a.created_at > now() - interval '1 hour'
    group by j.channel, a.status`;
  const suppressed = await tx<{ channel: string; count: number }[]>`
    select channel, count(*)::int as count from public.job_queue
    where status = 'suppressed' and updated_at > now() - interval '1 hour'
    group by channel`;
  const breakers = await tx<
    { channel: string; state: string; consecutive_failures: number; retry_at: Date | null }[]
  >`
    select channel, state, consecutive_failures, retry_at from public.circuit_breakers order by channel`;

  const delivery = Object.fromEntries(CHANNELS.map((channel) => {
    const counts = Object.fromEntries(
      ATTEMPT_STATUSES.map((status) => [status, 0]),
    ) as ChannelDelivery["attempts"];
    for (const row of attempts) {
      if (row.channel === channel && row.status in counts) {
        counts[row.status as keyof typeof counts] = row.count;
      }
    }
    return [channel, {
      attempts: counts,
      suppressed: suppressed.find((row) => row.channel === channel)?.count ?? 0,
      success_rate: ratio(counts.sent, counts.sent + counts.failed + counts.dead),
    }];
  })) as SchedulerStats["delivery_last_hour"];

  const cron = await readCronRuns(tx);
  return {
    cron: { ...cron, failures_last_hour: cron.jobs.reduce((sum, job) => sum + job.failures_last_hour, 0) },
    delivery_last_hour: delivery,
    breakers: breakers.map((row) => ({ ...row, retry_at: row.retry_at?.toISOString() ?? null })),
  };
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
