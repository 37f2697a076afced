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
  /** Delivery attempts from `activeSince` on, by outcome, and the success rate over the tries
   * (sent + retried + failed + dead), as public.ops_delivery_figures defines them. */
  attempts_since: number;
  tries: number;
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  success_rate: number | null;
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
  const [row] = await sql<WindowMetrics[]>`
    with decided as (
      -- Jobs the scheduler decided about in the window, counted per company and outcome.
      select j.company_id, j.status, j.updated_at >= ${activeSince} as active,
             j.status = 'suppressed' and j.last_error = ${ROLLOUT_SUPPRESSION} as by_rollout, count(*)::int as n
      from public.job_queue j
      where j.updated_at >= ${since} and j.status not in ('pending', 'cancelled')
      group by 1, 2, 3, 4
    ), covered as (
      -- Whether the notifications rollout covers each of those companies as configured (ignoring
      -- ROLLBACK_MODE, under which flag_enabled says "off" for all): once per company.
      select c.company_id, private.flag_covers('NOTIFICATIONS_ENABLED', c.company_id) as inside
      from (select distinct company_id from decided) c
    ), delivery as (
      -- The one definition of the delivery figures (the ops endpoints read it too).
      select * from public.ops_delivery_figures(${activeSince}) where channel = 'all'
    ), overdue as (
      select j.company_id, count(*)::int as n from public.job_queue j
      where j.status = 'pending' and j.scheduled_for < now() - make_interval(mins => ${overdueMinutes})
      group by 1
    )
    select
      (select count(*)::int from public.events e where e.received_at >= ${since}) as events_received,
      (select count(*)::int from public.events e where e.received_at >= ${since} and e.processed_at is not null)
        as events_processed,
      (select count(*)::int from public.events e where e.processed_at >= ${activeSince}) as events_processed_since,
      (select count(*)::int from public.recovery_cases rc where rc.created_at >= ${since}) as cases_opened,
      (select coalesce(sum(n), 0)::int from decided where active) as jobs_dispatched_since,
      delivery.attempts as attempts_since, delivery.tries, delivery.sent, delivery.retried, delivery.failed,
      delivery.dead, delivery.success_rate,
      (select coalesce(sum(d.n), 0)::int from decided d join covered c using (company_id)
       where d.status = 'sent' and not c.inside) as sent_outside_rollout,
      (select coalesce(sum(d.n), 0)::int from decided d join covered c using (company_id)
       where d.by_rollout and c.inside) as suppressed_inside_rollout,
      (select coalesce(sum(d.n), 0)::int from decided d join covered c using (company_id)
       where d.by_rollout and not c.inside) as suppressed_outside_rollout,
      (select coalesce(sum(o.n), 0)::int from overdue o
       where private.flag_enabled('SCHEDULER_ENABLED', o.company_id)) as overdue_jobs
    from delivery`;
  return row;
}
