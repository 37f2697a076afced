// What the database says about a window of time, for the success criteria of `verify` and
// `status`. One round trip, bounded by the window (indexes on received_at, created_at, updated_at).
import type { Sql } from "../lib/database.ts";

export interface WindowMetrics {
  /** Webhook events stored in the window, and how many of those are processed. */
  events_received: number;
  events_processed: number;
  /** Stored events processed (by ingest or reprocessing) from `activeSince` on. */
  events_processed_since: number;
  cases_opened: number;
  /** Jobs the scheduler decided about (claimed, sent, failed, suppressed, ...) from `activeSince` on. */
  jobs_dispatched_since: number;
  /** Delivery attempts from `activeSince` on, by outcome. */
  attempts_since: number;
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  /** Jobs sent in the window to companies that NOTIFICATIONS_ENABLED does not cover now. */
  sent_outside_rollout: number;
  /** Jobs suppressed in the window because notifications were off for the company, split by
   * whether NOTIFICATIONS_ENABLED covers the company now. */
  suppressed_inside_rollout: number;
  suppressed_outside_rollout: number;
  /** Due jobs of companies the scheduler covers that are waiting longer than the threshold. */
  overdue_jobs: number;
}

const ROLLOUT_SUPPRESSION = "notifications are off for this company";

export async function measureWindow(
  sql: Sql,
  since: Date,
  activeSince: Date,
  overdueMinutes: number,
): Promise<WindowMetrics> {
  const [row] = await sql<Record<keyof WindowMetrics, number>[]>`
    with flag as (
      -- The rollout as configured, ignoring ROLLBACK_MODE (flag_enabled would say "off" for all).
      select f.enabled, f.rollout_percent, f.company_allowlist from public.feature_flags f
      where f.name = 'NOTIFICATIONS_ENABLED'
    ), covered as (
      select j.id, j.status, j.last_error, j.updated_at,
             (select fl.enabled and (j.company_id = any (fl.company_allowlist)
                                     or private.company_bucket(j.company_id) < fl.rollout_percent) from flag fl) as inside
      from public.job_queue j
      where j.updated_at >= ${since}
    ), attempts as (
      select a.status, count(*)::int as n from public.notification_attempts a
      where a.created_at >= ${activeSince} group by a.status
    )
    select
      (select count(*)::int from public.events e where e.received_at >= ${since}) as events_received,
      (select count(*)::int from public.events e where e.received_at >= ${since} and e.processed_at is not null)
        as events_processed,
      (select count(*)::int from public.events e where e.processed_at >= ${activeSince}) as events_processed_since,
      (select count(*)::int from public.recovery_cases rc where rc.created_at >= ${since}) as cases_opened,
      (select count(*)::int from covered c
       where c.updated_at >= ${activeSince} and c.status not in ('pending', 'cancelled')) as jobs_dispatched_since,
      (select coalesce(sum(n), 0)::int from attempts) as attempts_since,
      (select coalesce(sum(n), 0)::int from attempts where status = 'sent') as sent,
      (select coalesce(sum(n), 0)::int from attempts where status = 'retry') as retried,
      (select coalesce(sum(n), 0)::int from attempts where status = 'failed') as failed,
      (select coalesce(sum(n), 0)::int from attempts where status = 'dead') as dead,
      (select count(*)::int from covered c where c.status = 'sent' and not c.inside) as sent_outside_rollout,
      (select count(*)::int from covered c
       where c.status = 'suppressed' and c.last_error = ${ROLLOUT_SUPPRESSION} and c.inside) as suppressed_inside_rollout,
      (select count(*)::int from covered c
       where c.status = 'suppressed' and c.last_error = ${ROLLOUT_SUPPRESSION} and not c.inside)
        as suppressed_outside_rollout,
      (select count(*)::int from public.job_queue j
       where j.status = 'pending' and j.scheduled_for < now() - make_interval(mins => ${overdueMinutes})
         and private.flag_enabled('SCHEDULER_ENABLED', j.company_id)) as overdue_jobs`;
  return row as WindowMetrics;
}
