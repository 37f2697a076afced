-- One definition of delivery success (issue 11): the ops alerts, /api/scheduler/reminders,
-- /api/metrics and `rollout verify` / `status` all read it from here. Before, the dashboard left
-- retries out of its per-channel rate while `rollout verify` counted them, so a complete Whop
-- outage (every attempt a retry) showed 100% on one surface and 33% on the other.
--
-- A try is an attempt that called Whop: sent, retry, failed or dead. Skipped attempts called
-- nothing and are counted apart. success_rate = sent / tries, failure_rate = (retried + failed +
-- dead) / tries, both null without a try. A breaker deferral is not an attempt (complete_job
-- records none). Suppressed jobs (the rollout or the creator held them back) are reported next to
-- the attempts, as the jobs that reached `suppressed` in the window.
-- One row per channel and a row 'all' for the totals.

create or replace function public.ops_delivery_figures(p_since timestamptz, p_until timestamptz default null)
returns table (
  channel text, attempts integer, tries integer, sent integer, retried integer, failed integer, dead integer,
  skipped integer, suppressed integer, success_rate double precision, failure_rate double precision
)
language sql
stable
set search_path = ''
as $$
  with channels (channel, position) as (
    values ('push', 1), ('dm', 2), ('incentive', 3)
  ), attempted as (
    select j.channel, a.status, count(*)::integer as n
    from public.notification_attempts a
    join public.job_queue j on j.id = a.job_id
    where a.created_at >= p_since and (p_until is null or a.created_at < p_until)
    group by j.channel, a.status
  ), held as (
    select j.channel, count(*)::integer as n
    from public.job_queue j
    where j.status = 'suppressed' and j.updated_at >= p_since and (p_until is null or j.updated_at < p_until)
    group by j.channel
  ), per_channel as (
    select c.channel, c.position,
           coalesce(sum(a.n) filter (where a.status = 'sent'), 0)::integer as sent,
           coalesce(sum(a.n) filter (where a.status = 'retry'), 0)::integer as retried,
           coalesce(sum(a.n) filter (where a.status = 'failed'), 0)::integer as failed,
           coalesce(sum(a.n) filter (where a.status = 'dead'), 0)::integer as dead,
           coalesce(sum(a.n) filter (where a.status = 'skipped'), 0)::integer as skipped,
           coalesce((select h.n from held h where h.channel = c.channel), 0) as suppressed
    from channels c
    left join attempted a on a.channel = c.channel
    group by c.channel, c.position
  ), with_total as (
    select channel, position, sent, retried, failed, dead, skipped, suppressed from per_channel
    union all
    select 'all', 4, sum(sent)::integer, sum(retried)::integer, sum(failed)::integer, sum(dead)::integer,
           sum(skipped)::integer, sum(suppressed)::integer
    from per_channel
  )
  select t.channel,
         t.sent + t.retried + t.failed + t.dead + t.skipped,
         t.sent + t.retried + t.failed + t.dead,
         t.sent, t.retried, t.failed, t.dead, t.skipped, t.suppressed,
         round(t.sent::numeric / nullif(t.sent + t.retried + t.failed + t.dead, 0), 4)::double precision,
         round((t.retried + t.failed + t.dead)::numeric / nullif(t.sent + t.retried + t.failed + t.dead, 0), 4)
           ::double precision
  from with_total t
  order by t.position
$$;

comment on function public.ops_delivery_figures(timestamptz, timestamptz) is
  'Delivery attempts per channel (and ''all'') in [p_since, p_until): tries = sent + retried + failed + dead; success_rate = sent / tries.';

revoke execute on function public.ops_delivery_figures(timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.ops_delivery_figures(timestamptz, timestamptz) to service_role;
